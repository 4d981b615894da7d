//! Pavé functions: the money side. Filled by the pledges issue.
