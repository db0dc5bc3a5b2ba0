// The migrations are embedded by `sqlx::migrate!`, which cannot ask cargo to watch them on a
// stable compiler: a changed or new migration must rebuild the crate.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
