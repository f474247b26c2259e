//! Sharing state between actix workers: the one single-flight primitive
//! ([`flight::SingleFlight`]) and the one way to take a lock.
//!
//! Locks are poison-tolerant: a panic while a lock was held (none is expected: nothing in
//! this crate panics inside a critical section short of an allocation failure, which
//! aborts) leaves the data as consistent as the critical section left it, and refusing
//! every later request over it would turn one bug into an outage.

use std::sync::{Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

pub(crate) mod flight;

/// Locks `mutex`, poisoned or not.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Reads `lock`, poisoned or not.
pub(crate) fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|p| p.into_inner())
}

/// Writes `lock`, poisoned or not.
pub(crate) fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|p| p.into_inner())
}
