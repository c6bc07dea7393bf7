//! Commands for the administrator and the packager rather than the cluster: the effective
//! configuration, and the generated man pages, completions and configuration documents.

pub mod generate;
pub mod restart;
pub mod show_config;
pub mod status;
