#ifndef BELUGA_SODIUM_BASELINE_H
#define BELUGA_SODIUM_BASELINE_H

#include <stddef.h>

/// Initialises libsodium; returns 0 on success (sodium_init returns 1 when already done).
int sodium_baseline_init(void);

/// Opens the sealed box `box` (`box_length` bytes) `count` times with crypto_box_seal_open into
/// `plaintext` (at least `box_length` - 48 bytes) and returns how many opened. Nothing else
/// happens in the loop: this is the rate libsodium itself allows on this machine.
size_t sodium_baseline_open_loop(unsigned char *plaintext, const unsigned char *box, size_t box_length,
                                 const unsigned char *public_key, const unsigned char *secret_key,
                                 size_t count);

#endif
