#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn hydrate() {
    console_error_panic_hook::set_once();
    // A lazily loaded page's chunk must be here before hydration (app::ui::routes).
    let path = leptos::prelude::window()
        .location()
        .pathname()
        .unwrap_or_default();
    app::ui::preload_route(&path).await;
    leptos::mount::hydrate_body(app::App);
}
