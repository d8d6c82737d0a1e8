//! The container engine (Docker) behind a trait, so tests and machines
//! without Docker can swap it. Later issues grow this into the build runner;
//! for now the console needs to know whether Docker is there and say which
//! features depend on it.

use async_trait::async_trait;

/// What the engine reports about itself.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    pub version: String,
    pub api_version: String,
}

#[async_trait]
pub trait ContainerEngine: Send + Sync {
    /// `Err` says, for a person, why the engine cannot be used.
    async fn ping(&self) -> Result<EngineInfo, String>;
}

/// Docker through bollard: `DOCKER_HOST`, or the default unix socket.
pub struct DockerEngine {
    docker: Result<bollard::Docker, String>,
}

impl DockerEngine {
    pub fn from_env() -> Self {
        let docker = bollard::Docker::connect_with_defaults().map_err(|e| format!("cannot reach Docker: {e}"));
        DockerEngine { docker }
    }
}

#[async_trait]
impl ContainerEngine for DockerEngine {
    async fn ping(&self) -> Result<EngineInfo, String> {
        let docker = self.docker.as_ref().map_err(Clone::clone)?;
        let v = docker.version().await.map_err(|e| {
            format!(
                "Docker is not reachable ({e}); builds, previews and shells need it. Set DOCKER_HOST or start dockerd."
            )
        })?;
        Ok(EngineInfo { version: v.version.unwrap_or_default(), api_version: v.api_version.unwrap_or_default() })
    }
}

/// An engine that is never there, for tests of the "no Docker" path.
pub struct NoEngine(pub String);

#[async_trait]
impl ContainerEngine for NoEngine {
    async fn ping(&self) -> Result<EngineInfo, String> {
        Err(self.0.clone())
    }
}
