//! How a workload becomes a Swarm service: its image, mounts and the
//! docker backend's hardening (capabilities, no-new-privileges, a pids
//! limit), its CPU and memory limits, a restart policy (none for a job), its
//! placement and network, and a published port when servers may run on
//! other nodes. A plain translation, apart from what the swarm is asked.

use super::super::Workload;
use crate::engine::{DEFAULT_PIDS_LIMIT, KEPT_CAPABILITIES};
use bollard::models::{
    EndpointPortConfig, EndpointPortConfigPublishModeEnum, EndpointSpec, Limit, Mount, MountTypeEnum,
    NetworkAttachmentConfig, ServiceSpec, ServiceSpecMode, ServiceSpecModeReplicated, ServiceSpecUpdateConfig,
    ServiceSpecUpdateConfigOrderEnum, TaskSpec, TaskSpecContainerSpec, TaskSpecContainerSpecPrivileges,
    TaskSpecPlacement, TaskSpecResources, TaskSpecRestartPolicy, TaskSpecRestartPolicyConditionEnum,
};
use std::time::Duration;

/// The service for `w` (a one-shot `job` or a server), running `image`
/// under `constraints`; `publish`: its Odoo port on its node (multi-node swarms).
pub(super) fn service_spec(
    w: &Workload,
    job: bool,
    image: String,
    constraints: Vec<String>,
    publish: bool,
) -> ServiceSpec {
    let labels = w.owner.labels();
    let container = TaskSpecContainerSpec {
        image: Some(image),
        labels: Some(labels.clone()),
        args: Some(w.args.clone()),
        env: Some(w.env.clone()),
        mounts: Some(
            w.filestore
                .iter()
                .map(|f| Mount {
                    target: Some(f.container.clone()),
                    source: Some(f.host.display().to_string()),
                    typ: Some(MountTypeEnum::BIND),
                    ..Default::default()
                })
                .chain(w.db_socket.iter().map(|d| Mount {
                    target: Some(crate::builds::infra::DB_SOCKET_MOUNT.to_owned()),
                    source: Some(d.display().to_string()),
                    typ: Some(MountTypeEnum::BIND),
                    read_only: Some(true),
                    ..Default::default()
                }))
                .collect(),
        ),
        // The same hardening as a container of the docker backend (engines before
        // API 1.46 ignore no-new-privileges here: set it daemon-wide, see SECURITY.md).
        capability_drop: Some(vec!["ALL".into()]),
        capability_add: Some(KEPT_CAPABILITIES.iter().map(|c| format!("CAP_{c}")).collect()),
        privileges: Some(TaskSpecContainerSpecPrivileges { no_new_privileges: Some(true), ..Default::default() }),
        stop_grace_period: Some(Duration::from_secs(5).as_nanos() as i64),
        ..Default::default()
    };
    let task = TaskSpec {
        container_spec: Some(container),
        resources: Some(TaskSpecResources {
            limits: Some(Limit {
                nano_cpus: w.nano_cpus,
                memory_bytes: w.memory_bytes,
                pids: Some(DEFAULT_PIDS_LIMIT),
            }),
            ..Default::default()
        }),
        restart_policy: Some(if job {
            TaskSpecRestartPolicy { condition: Some(TaskSpecRestartPolicyConditionEnum::NONE), ..Default::default() }
        } else {
            TaskSpecRestartPolicy {
                condition: Some(TaskSpecRestartPolicyConditionEnum::ON_FAILURE),
                delay: Some(Duration::from_secs(5).as_nanos() as i64),
                ..Default::default()
            }
        }),
        placement: (!constraints.is_empty())
            .then(|| TaskSpecPlacement { constraints: Some(constraints), ..Default::default() }),
        networks: Some(vec![NetworkAttachmentConfig { target: Some(w.network.clone()), ..Default::default() }]),
        ..Default::default()
    };
    let endpoint = publish.then(|| EndpointSpec {
        ports: Some(vec![EndpointPortConfig {
            target_port: Some(i64::from(super::super::ODOO_PORT)),
            publish_mode: Some(EndpointPortConfigPublishModeEnum::HOST),
            ..Default::default()
        }]),
        ..Default::default()
    });
    ServiceSpec {
        name: Some(w.name.clone()),
        labels: Some(labels),
        task_template: Some(task),
        mode: Some(ServiceSpecMode {
            replicated: Some(ServiceSpecModeReplicated { replicas: Some(1) }),
            ..Default::default()
        }),
        update_config: Some(ServiceSpecUpdateConfig {
            order: Some(ServiceSpecUpdateConfigOrderEnum::START_FIRST),
            ..Default::default()
        }),
        endpoint_spec: endpoint,
        ..Default::default()
    }
}
