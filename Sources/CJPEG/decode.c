// JPEG decoding through libjpeg (Debian: libjpeg62-turbo-dev) behind an error manager that cannot end the process.
//
// libjpeg's default error_exit prints and calls exit(). Ours longjmps back to vaekit_jpeg_decode, which is plain C:
// the jump never crosses a Swift frame, and every libjpeg object is destroyed before returning the message.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <jpeglib.h>
#include <jerror.h>
#include "CJPEG.h"

typedef struct {
    struct jpeg_error_mgr base;  // first, so libjpeg's pointer to it is also a pointer to this struct
    jmp_buf jump;
    char *message;
    size_t capacity;
} error_manager;

static void write_message(error_manager *manager, const char *text) {
    if (manager->capacity > 0) snprintf(manager->message, manager->capacity, "%s", text);
}

__attribute__((noreturn)) static void fail(j_common_ptr info) {
    error_manager *manager = (error_manager *)info->err;
    char text[JMSG_LENGTH_MAX];
    (*info->err->format_message)(info, text);
    write_message(manager, text);
    longjmp(manager->jump, 1);
}

// Level -1 is a warning; levels 0 and up are trace messages. Warnings that mean the entropy-coded data is damaged
// are fatal; the others (unknown JFIF revision, odd Adobe marker, unusual progression) describe harmless metadata.
static void emit(j_common_ptr info, int level) {
    if (level >= 0) return;
    switch (info->err->msg_code) {
    case JWRN_JPEG_EOF:
    case JWRN_HIT_MARKER:
    case JWRN_MUST_RESYNC:
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_ARITH_BAD_CODE:
    case JWRN_NOT_SEQUENTIAL:
        fail(info);
    default:
        break;
    }
}

static void quiet(j_common_ptr info) { (void)info; }

void vaekit_jpeg_free(vaekit_jpeg_image *image) {
    free(image->pixels);
    image->pixels = NULL;
}

int vaekit_jpeg_decode(const unsigned char *data, size_t size, size_t max_pixels,
                       vaekit_jpeg_image *image, char *message, size_t message_capacity) {
    struct jpeg_decompress_struct info;
    error_manager manager;
    memset(&info, 0, sizeof info);
    memset(image, 0, sizeof *image);
    manager.message = message;
    manager.capacity = message_capacity;
    write_message(&manager, "");
    info.err = jpeg_std_error(&manager.base);
    manager.base.error_exit = fail;
    manager.base.emit_message = emit;
    manager.base.output_message = quiet;
    if (setjmp(manager.jump)) {
        jpeg_destroy_decompress(&info);
        vaekit_jpeg_free(image);
        return -1;
    }
    jpeg_create_decompress(&info);
    jpeg_mem_src(&info, data, (unsigned long)size);
    jpeg_read_header(&info, TRUE);
    if (info.jpeg_color_space == JCS_CMYK || info.jpeg_color_space == JCS_YCCK) {
        write_message(&manager, "CMYK JPEG images are not supported (convert to RGB)");
        jpeg_destroy_decompress(&info);
        return -1;
    }
    info.out_color_space = info.jpeg_color_space == JCS_GRAYSCALE ? JCS_GRAYSCALE : JCS_RGB;
    if ((size_t)info.image_width * (size_t)info.image_height > max_pixels) {
        if (message_capacity > 0)
            snprintf(message, message_capacity, "image of %ux%u pixels exceeds the limit of %zu pixels",
                     (unsigned)info.image_width, (unsigned)info.image_height, max_pixels);
        jpeg_destroy_decompress(&info);
        return -1;
    }
    jpeg_start_decompress(&info);
    size_t row_bytes = (size_t)info.output_width * (size_t)info.output_components;
    image->pixels = malloc(row_bytes * info.output_height);
    if (image->pixels == NULL) {
        write_message(&manager, "out of memory");
        jpeg_destroy_decompress(&info);
        return -1;
    }
    while (info.output_scanline < info.output_height) {
        JSAMPROW row = image->pixels + (size_t)info.output_scanline * row_bytes;
        if (jpeg_read_scanlines(&info, &row, 1) != 1) {
            write_message(&manager, "Premature end of JPEG file");
            jpeg_destroy_decompress(&info);
            vaekit_jpeg_free(image);
            return -1;
        }
    }
    image->width = (int)info.output_width;
    image->height = (int)info.output_height;
    image->channels = info.output_components;
    jpeg_finish_decompress(&info);
    jpeg_destroy_decompress(&info);
    return 0;
}
