//! The virt driver interface: one trait ([`VirtDriver`]) and the plain, serializable types it
//! takes and returns, so the compute manager can carry them over the bus.

mod block_device;
mod console;
mod diagnostics;
mod driver;
mod error;
mod events;
mod host;
mod image;
mod instance;
mod migration;
mod network;
mod power_state;
mod resources;
mod snapshot;
mod spawn;

pub use block_device::{
    BlockDeviceInfo, EphemeralDisk, SwapDisk, VolumeConnection, VolumeConnector, VolumeMapping,
};
pub use console::{ConsoleEndpoint, ConsoleKind};
pub use diagnostics::{
    CpuDiagnostics, DiskDiagnostics, DriverDiagnostics, InstanceDiagnostics, MemoryDiagnostics,
    NicDiagnostics,
};
pub use driver::{RebootType, VirtDriver};
pub use error::{VirtError, VirtResult};
pub use events::{LifecycleEvent, LifecycleTransition};
pub use host::HostPowerAction;
pub use image::{ImageMeta, ImageSource};
pub use instance::{instance_name, FlavorInfo, InstanceInfo, InstanceRef};
pub use migration::{
    FinishMigrationRequest, LiveMigrateData, LiveMigrationCheck, MigrateDiskRequest,
    MigrationDiskInfo, MigrationInfo, MigrationKind, RevertMigrationRequest,
};
pub use network::Vif;
pub use power_state::PowerState;
pub use resources::{CpuInfo, CpuTopology, DriverCapabilities, NodeResources, SupportedInstance};
pub use snapshot::{ByteStream, SnapshotImage};
pub use spawn::{
    AdminPassword, InjectedFile, NoProgress, RescueRequest, SpawnProgress, SpawnRequest, SpawnStep,
};
