//! The C API (skeleton: the functions and the header come next).
#![no_std]
