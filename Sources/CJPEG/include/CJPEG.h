#ifndef VAEKIT_CJPEG_H
#define VAEKIT_CJPEG_H

#include <stddef.h>

/// A JPEG decoded to 8-bit interleaved pixels, rows top to bottom.
typedef struct {
    int width;
    int height;
    /// 1 (grey) or 3 (RGB).
    int channels;
    /// width * height * channels bytes from malloc; release with vaekit_jpeg_free.
    unsigned char *pixels;
} vaekit_jpeg_image;

/// Decodes a baseline or progressive JPEG held in memory with libjpeg.
///
/// libjpeg reports fatal errors by calling error_exit, which by default calls exit(); here it longjmps back into
/// this C function (never across a Swift frame) and the error text is copied to `message`. Warnings (for example
/// "Premature end of JPEG file") are treated as errors too: a damaged file must not train a model on grey fill.
/// Images with more than `max_pixels` pixels are refused before any pixel memory is allocated.
///
/// Returns 0 and fills `image` on success; returns -1 and writes a NUL-terminated message otherwise.
int vaekit_jpeg_decode(const unsigned char *data, size_t size, size_t max_pixels,
                       vaekit_jpeg_image *image, char *message, size_t message_capacity);

/// Frees the pixels of an image filled by vaekit_jpeg_decode (safe to call twice).
void vaekit_jpeg_free(vaekit_jpeg_image *image);

#endif
