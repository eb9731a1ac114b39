#ifndef BELUGA_CCURL_SHIM_H
#define BELUGA_CCURL_SHIM_H

#include <curl/curl.h>
#include <dlfcn.h>
#include <stddef.h>
#include <stdint.h>

// curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot call. These typed
// wrappers, one per argument type, are imported by Swift directly.

static inline CURLcode ccurl_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_setopt_pointer(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// libcurl copies string arguments (since 7.17), so `value` need only live for the call.
static inline CURLcode ccurl_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

/// Used for CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION (same signature).
static inline CURLcode ccurl_setopt_write_callback(CURL *handle, CURLoption option,
                                                   curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_setopt_read_callback(CURL *handle, CURLoption option,
                                                  curl_read_callback value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode ccurl_setopt_xferinfo_callback(CURL *handle, CURLoption option,
                                                      curl_xferinfo_callback value) {
    return curl_easy_setopt(handle, option, value);
}

/// Blob options with CURL_BLOB_COPY: libcurl keeps its own copy of the bytes.
static inline CURLcode ccurl_setopt_blob(CURL *handle, CURLoption option, const void *data,
                                         size_t length) {
    struct curl_blob blob;
    blob.data = (void *)data;
    blob.len = length;
    blob.flags = CURL_BLOB_COPY;
    return curl_easy_setopt(handle, option, &blob);
}

static inline CURLcode ccurl_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_getinfo_off_t(CURL *handle, CURLINFO info, curl_off_t *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_getinfo_string(CURL *handle, CURLINFO info, const char **value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode ccurl_getinfo_double(CURL *handle, CURLINFO info, double *value) {
    return curl_easy_getinfo(handle, info, value);
}

// OpenSSL (libcurl's TLS library here) frees its global state from an atexit handler. A
// transfer thread still finishing when the process exits (its thread-local OpenSSL state is
// released as the thread ends) then races with that handler and can corrupt the heap
// (openssl/openssl#6214). OPENSSL_INIT_NO_ATEXIT, given before OpenSSL's first initialisation,
// leaves the clean-up to process exit. The symbol is looked up at run time, so that a libcurl
// built on another TLS library needs nothing; the value is OpenSSL's public constant.
static inline void ccurl_openssl_skip_atexit_cleanup(void) {
    typedef int (*ccurl_openssl_init)(uint64_t options, const void *settings);
    ccurl_openssl_init init = (ccurl_openssl_init)dlsym((void *)0 /* RTLD_DEFAULT */, "OPENSSL_init_crypto");
    if (init != NULL) {
        (void)init(0x00080000UL /* OPENSSL_INIT_NO_ATEXIT */, NULL);
    }
}

static inline CURLcode ccurl_global_init_default(void) {
    ccurl_openssl_skip_atexit_cleanup();
    return curl_global_init(CURL_GLOBAL_DEFAULT);
}

#endif
