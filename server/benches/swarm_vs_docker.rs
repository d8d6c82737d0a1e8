//! Push → live preview on the swarm backend against the docker backend, on
//! the same machine, in the same run, rounds alternating so that both see the
//! same load: the swarm's cost (a service and a task instead of a container,
//! an overlay instead of a bridge) as a ratio (goal ≤ 1.2×). Needs an active
//! swarm (`docker swarm init --advertise-addr 127.0.0.1`) and the stand-in
//! binary. `ROUNDS` (default 3) sets the number of rounds per backend.

mod common;

use common::percentile;
use domain::config::Settings;
use domain::runtime::Backend;
use std::time::Duration;

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("ROUNDS").ok().and_then(|r| r.parse().ok()).unwrap_or(3);
    let docker = common::setup_on(Settings::for_url("http://127.0.0.1"), Backend::Docker).await;
    let swarm = common::setup_on(Settings::for_url("http://127.0.0.1"), Backend::Swarm).await;
    // A first build on each makes the stand-in image and warms the mirrors: not measured.
    docker.push_until_live("feature/warm", 0).await;
    swarm.push_until_live("feature/warm", 0).await;
    let (mut on_docker, mut on_swarm) = (Vec::<Duration>::new(), Vec::<Duration>::new());
    for round in 1..=rounds {
        print!("docker ");
        on_docker.push(docker.push_until_live("feature/bench", round).await.1);
        print!("swarm  ");
        on_swarm.push(swarm.push_until_live("feature/bench", round).await.1);
    }
    docker.tear_down().await;
    swarm.tear_down().await;
    let (d, s) = (percentile(&on_docker, 0.5), percentile(&on_swarm, 0.5));
    println!("push→preview on docker: median {:.2} s over {rounds} rounds", d.as_secs_f64());
    println!("push→preview on swarm:  median {:.2} s over {rounds} rounds", s.as_secs_f64());
    println!("ratio swarm/docker: {:.2}x (goal ≤ 1.2x)", s.as_secs_f64() / d.as_secs_f64());
}
