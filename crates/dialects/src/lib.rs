//! tasklane-dialects: what OMFLOW, OneGov GEVER and Hitachi CSCIW servers
//! send and accept (the wire types), and tasklane's HTTP clients for them,
//! each implementing [`tasklane_core::remote::Remote`].
//!
//! The wire types are shared with `tasklane serve` (tasklane-engine), so
//! client and server agree on one definition of every payload; the tests
//! therefore also run the clients against independent stubs that reproduce
//! each vendor's documented bytes.
