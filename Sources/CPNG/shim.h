// libpng (Debian: libpng-dev). VAEKit uses only the simplified API (png_image_*), which reports errors through
// png_image.message instead of longjmp, so no Swift frame is ever jumped over.
#include <png.h>
