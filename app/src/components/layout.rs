//! The frame of every signed-in page: navigation, the user, sign-out.

use crate::{AuthActions, MeResource};
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Layout(children: Children) -> impl IntoView {
    let me = expect_context::<MeResource>();
    let actions = expect_context::<AuthActions>();
    view! {
        <div class="app">
            <header class="topbar">
                <a class="brand" href="/">"OdooOps"</a>
                <nav aria-label="Main">
                    <A href="/" exact=true>"Dashboard"</A>
                    <A href="/projects">"Projects"</A>
                    <A href="/instances">"Instances"</A>
                    <A href="/catalog">"Catalog"</A>
                    <A href="/bundles">"Bundles"</A>
                    <A href="/tenants">"Tenants"</A>
                    <A href="/operations">"Operations"</A>
                    <A href="/billing">"Billing"</A>
                    <A href="/portal">"Portal"</A>
                    <A href="/support">"Support"</A>
                    <A href="/audit">"Audit"</A>
                    <A href="/settings">"Settings"</A>
                    // Platform owners read the console's own mail while no relay is set.
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            me.await.ok().flatten().filter(|m| m.platform_role.as_deref() == Some("platform_owner"))
                                .map(|_| view! { <A href="/console-mail">"Console mail"</A> })
                        })}
                    </Transition>
                </nav>
                <div class="who">
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            me.await.ok().flatten().map(|m| view! {
                                // Which console one acts in: the platform's (and as what), or a tenant's.
                                <span class="badge acting-as" id="acting-as">{crate::models::acting_as(m.platform_role.as_deref())}</span>
                                <span class="user" title=m.email.clone()>{m.display_name.clone()}</span>
                            })
                        })}
                    </Transition>
                    <ActionForm action=actions.sign_out attr:class="inline">
                        <button type="submit" class="link">"Sign out"</button>
                    </ActionForm>
                </div>
            </header>
            <main class="content">{children()}</main>
        </div>
    }
}
