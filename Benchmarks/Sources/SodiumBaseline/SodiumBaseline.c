#include "SodiumBaseline.h"

#include <sodium.h>

int sodium_baseline_init(void) { return sodium_init() < 0 ? -1 : 0; }

size_t sodium_baseline_open_loop(unsigned char *plaintext, const unsigned char *box, size_t box_length,
                                 const unsigned char *public_key, const unsigned char *secret_key,
                                 size_t count) {
    size_t opened = 0;
    for (size_t i = 0; i < count; i++) {
        if (crypto_box_seal_open(plaintext, box, box_length, public_key, secret_key) == 0) {
            opened++;
        }
    }
    return opened;
}
