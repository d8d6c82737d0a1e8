//! The project a page shows, handed to the page's sections while it loads.
//!
//! Why sections take this and not the project's id: a section created inside
//! the `Suspend` that awaits the project is created anew on each of the
//! server's resolution passes (Leptos walks a suspense's children again to
//! find what they read). Its resources were then created and fetched twice,
//! and numbered differently from the browser's, which hydrates each once. A
//! section instead creates its resources at its top, once, and awaits the
//! project inside them; [`ProjectRef::gate`] renders its markup when the
//! project has loaded (nothing when it cannot: the page's header says why).

use crate::error::AppError;
use domain::wire::ProjectDetail;
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct ProjectRef(pub Resource<Result<ProjectDetail, AppError>>);

impl ProjectRef {
    pub async fn detail(self) -> Result<ProjectDetail, AppError> {
        self.0.await
    }

    pub async fn id(self) -> Result<uuid::Uuid, AppError> {
        Ok(self.0.await?.project.id)
    }

    /// `view` of the loaded project. It may be called more than once on the
    /// server, so it must not create resources: the section creates those.
    pub fn gate<V>(self, view: impl Fn(ProjectDetail) -> V + Clone + Send + Sync + 'static) -> impl IntoView
    where
        V: IntoView + 'static,
    {
        view! {
            <Transition fallback=|| ()>
                {move || {
                    let view = view.clone();
                    Suspend::new(async move { self.detail().await.ok().map(view) })
                }}
            </Transition>
        }
    }
}
