//! axdr
