//! Where a guest's graphical or serial console can be reached (for the console proxies).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsoleKind {
    Vnc,
    Serial,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsoleEndpoint {
    pub kind: ConsoleKind,
    pub host: String,
    pub port: u16,
    pub internal_access_path: Option<String>,
}
