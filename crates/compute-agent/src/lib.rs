//! The compute agent (nova-compute): [`manager`] runs the instance lifecycle on a host (and
//! its periodic tasks), [`virt`] defines the [`virt::VirtDriver`] trait every hypervisor
//! backend implements and the plain types it speaks; [`drivers`] holds the backends (the
//! in-memory fake today, QEMU/KVM later).
//!
//! Drivers touch only the hypervisor: durable state lives in the database, which the compute
//! manager reaches through the conductor.

pub mod drivers;
pub mod manager;
pub mod virt;
