//! The core: what eva-ha does for a master node, whichever cluster calls it. Nothing here
//! knows of CLUSTERPRO's or Pacemaker's conventions; the front ends (`crate::front`) map
//! their calls onto these modules and their errors onto exit statuses.

pub mod death_watch;
pub mod history;
pub mod node;
pub mod once;
pub mod rest;
pub mod restart;
pub mod setup;
pub mod support;
pub mod token;
