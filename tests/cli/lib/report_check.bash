# Shared by the report tests: headless Chromium and the checks run inside a rendered report.
# Source it after setting $tmp (a scratch directory). browse PREFIX WxH ARGS... runs Chromium;
# inject PAGE OUT adds the checker script to a copy of PAGE; verdict DOM prints the checker's
# result: "plots=N images=M problems=K[: what]".

# Chromium: no sandbox (root), no GPU, no network services, a fresh profile per run.
browse() { # out_prefix window_size args...
  local prefix=$1 size=$2
  shift 2
  timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d "$tmp/profile.XXXXXX")" --enable-logging=stderr --v=0 \
    --window-size="$size" "$@" >"$prefix.out" 2>"$prefix.err"
}

# The checks run in the page (a copy: the report itself has no script) after it loaded and
# leave their verdict on <body data-check="...">, which --dump-dom shows.
checker='<script>
window.addEventListener("load", function () {
  var bad = [], svgs = document.querySelectorAll("svg.hm-plot"), imgs = 0;
  svgs.forEach(function (svg, i) {
    var r = svg.getBoundingClientRect(), boxes = [];
    if (r.width < 100 || r.height < 80) bad.push("plot " + i + " is " + r.width + "x" + r.height);
    svg.querySelectorAll("text").forEach(function (t) {
      var b = t.getBoundingClientRect(), s = t.textContent;
      if (!s) return;
      if (b.left < r.left - 1 || b.right > r.right + 1 || b.top < r.top - 1 || b.bottom > r.bottom + 1)
        bad.push("plot " + i + ": \"" + s + "\" runs out of the chart");
      if ((t.getAttribute("transform") || "").indexOf("rotate(-40)") < 0) boxes.push([b, s]);
    });
    var k = r.width / 640; /* user units per CSS pixel */
    for (var a = 0; a < boxes.length; a++)
      for (var c = a + 1; c < boxes.length; c++) {
        var A = boxes[a][0], C = boxes[c][0];
        var ox = Math.min(A.right, C.right) - Math.max(A.left, C.left);
        var oy = Math.min(A.bottom, C.bottom) - Math.max(A.top, C.top);
        if (ox > 1 * k && oy > 3 * k) bad.push("plot " + i + ": \"" + boxes[a][1] + "\" overlaps \"" + boxes[c][1] + "\"");
      }
  });
  Array.prototype.forEach.call(document.images, function (im) {
    if (im.complete && im.naturalWidth > 0) imgs++; else bad.push("an image does not decode: " + im.alt);
  });
  document.querySelectorAll(".card .value").forEach(function (v) {
    if (v.scrollWidth > v.clientWidth + 1) bad.push("the card value \"" + v.textContent + "\" overflows its card");
  });
  if (document.documentElement.scrollWidth > window.innerWidth + 1)
    bad.push("the page is " + document.documentElement.scrollWidth + " px wide in a " + window.innerWidth + " px window");
  document.body.setAttribute("data-check", "plots=" + svgs.length + " images=" + imgs + " problems=" + bad.length + (bad.length ? ": " + bad.join(" | ") : ""));
});
</script>'
inject() { # page out
  CHECKER="$checker" awk '/<\/body>/ { print ENVIRON["CHECKER"] } { print }' "$1" > "$2"
}

verdict() { # dom file -> the data-check attribute
  sed -n 's/.*<body data-check="\([^"]*\)".*/\1/p' "$1" | sed 's/&quot;/"/g; s/&amp;/\&/g'
}

