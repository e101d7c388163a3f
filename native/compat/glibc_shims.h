// The fallbacks behind glibc_shims.cpp's glibc names, callable by name for test_glibc_shims.
#pragma once
#include <dlfcn.h>
#include <stddef.h>

namespace adjoint::compat {

// Looks up glibc's own __cxa_thread_atexit_impl and _dl_find_object again, or (force_fallbacks)
// forgets them so the fallbacks below answer, as on a glibc that lacks them. Runs at load time.
void resolve(bool force_fallbacks);
bool using_glibc_find_object();
bool using_glibc_thread_atexit();
// How often the shims ran the fallbacks below (0 while glibc's own functions answer).
long find_object_fallback_calls();
long thread_atexit_fallback_calls();

// _dl_find_object from dl_iterate_phdr: map start and end, and the PT_GNU_EH_FRAME address.
int find_object_fallback(void* pc, struct dl_find_object* out);
// Registers dtor(obj) to run when the calling thread ends (or at exit for the main thread).
int thread_atexit_fallback(void (*dtor)(void*), void* obj);
// getentropy(3): at most 256 bytes from getrandom(2), or /dev/urandom without it.
int getentropy_impl(void* buffer, size_t length);

}  // namespace adjoint::compat
