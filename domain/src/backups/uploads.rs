//! Import uploads in flight, counted per tenant.
//!
//! An import streams up to the archive limit (gigabytes) into scratch space
//! before it can be inspected. Authorization happens before the first byte is
//! read, but an authorized tenant could still open many uploads at once and
//! fill the disk for everyone: each tenant gets a few slots, taken before the
//! body is read and given back when the upload is stored or abandoned.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// Uploads one tenant may have in flight at once.
pub const PER_TENANT: usize = 2;

/// The slots of every tenant.
#[derive(Debug)]
pub struct UploadSlots {
    per_tenant: usize,
    busy: Mutex<HashMap<Uuid, usize>>,
}

/// One upload in flight; the slot is free again when this is dropped.
#[derive(Debug)]
pub struct UploadSlot {
    slots: Arc<UploadSlots>,
    tenant: Uuid,
}

impl UploadSlots {
    pub fn new(per_tenant: usize) -> Arc<UploadSlots> {
        Arc::new(UploadSlots { per_tenant, busy: Mutex::new(HashMap::new()) })
    }

    /// A slot of `tenant`, unless all of them are taken.
    pub fn try_take(self: &Arc<Self>, tenant: Uuid) -> Option<UploadSlot> {
        let mut busy = self.busy.lock().unwrap_or_else(|e| e.into_inner());
        let n = busy.entry(tenant).or_insert(0);
        if *n >= self.per_tenant {
            return None;
        }
        *n += 1;
        Some(UploadSlot { slots: self.clone(), tenant })
    }

    /// Uploads of `tenant` in flight.
    pub fn in_flight(&self, tenant: Uuid) -> usize {
        self.busy.lock().unwrap_or_else(|e| e.into_inner()).get(&tenant).copied().unwrap_or(0)
    }
}

impl Drop for UploadSlot {
    fn drop(&mut self) {
        let mut busy = self.slots.busy.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = busy.get_mut(&self.tenant) {
            *n -= 1;
            if *n == 0 {
                busy.remove(&self.tenant);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_per_tenant_and_come_back() {
        let slots = UploadSlots::new(2);
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        let first = slots.try_take(a).unwrap();
        let _second = slots.try_take(a).unwrap();
        assert!(slots.try_take(a).is_none(), "a third upload of one tenant waits");
        assert!(slots.try_take(b).is_some(), "another tenant is not affected");
        drop(first);
        assert_eq!(slots.in_flight(a), 1);
        assert!(slots.try_take(a).is_some());
    }
}
