//! gbt
