/* io/parse: number and id parsers: prices, integers, hex ids (parse.c). */
#ifndef HM_IO_PARSE_H
#define HM_IO_PARSE_H

#include "core/core.h"

/* Decimal number ([+-]digits[.digits][e[+-]digits]) to the correctly rounded float (as
 * strtof would give). Returns 0, or -1 when the text is not such a number or not finite. */
int io_parse_f32(const char *s, size_t len, float *out);
/* Integer [-]digits (leading zeros allowed) within int32. */
int io_parse_i32(const char *s, size_t len, int32_t *out);
/* Unsigned decimal of 1..10 digits within uint32 (article ids: "0663713001" or "663713001"). */
int io_parse_u32(const char *s, size_t len, uint32_t *out);
/* Exactly 64 hex digits (either case) to 32 bytes. */
int io_parse_hex256(const char *s, size_t len, uint8_t out[32]);
/* 32 bytes to 64 lower-case hex digits and a terminator. */
void io_format_hex256(const uint8_t in[32], char out[65]);
/* Shortest decimal text that reads back as exactly f (at most 9 significant digits).
 * buf: at least 32 bytes. Returns the length. */
int io_format_f32(float f, char *buf);

#endif
