//! The CLUSTERPRO front end: the commands an administrator wires into a failover group
//! (eva-start and eva-stop as the Exec resource, eva-genw as the custom monitor) and the
//! two run by hand (eva-check, eva-verify). Each module has one entry function, `run`.

pub mod check;
pub mod genw;
pub mod start;
pub mod stop;
pub mod verify;
