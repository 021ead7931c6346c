#include <zlib.h>

/* deflateInit and inflateInit are macros; Swift cannot call them. */
static inline int oemsync_deflate_init(z_streamp stream, int level) {
  return deflateInit(stream, level);
}
static inline int oemsync_inflate_init(z_streamp stream) {
  return inflateInit(stream);
}
