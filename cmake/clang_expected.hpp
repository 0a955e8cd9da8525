// Forced-included (-include) into every C++ file when clang < 19 compiles
// berth (the fuzz and sanitizer builds): libstdc++ 12 declares std::expected
// only when __cpp_concepts >= 202002L, which clang announces from version 19
// although clang 16 already implements what <expected> needs (P0848,
// conditionally trivial special members). clang 14 does not: use clang >= 16.
#pragma once
#if defined(__clang__) && __clang_major__ < 16
#error "berth needs clang >= 16 for std::expected with libstdc++ (Debian: clang-16)"
#endif
#undef __cpp_concepts
#define __cpp_concepts 202002L
