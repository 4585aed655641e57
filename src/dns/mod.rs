//! DNS as the operator sees it: the records a mail domain must publish to
//! send clients here (`records`), the checker that compares them with what
//! DNS answers (`check`), and the resolver both the checker and MX detection
//! ask (`resolver`). Detection itself lives in `resolve`, where every
//! domain is resolved. Knows nothing of HTTP.

pub mod check;
pub mod records;
pub mod resolver;
