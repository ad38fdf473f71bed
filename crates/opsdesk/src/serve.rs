//! `opsdesk serve`: the web desk.

use opsdesk_db::Db;
use opsdesk_web::server::{Config, serve};

use crate::{Failure, Ui};

/// Serves the desk on `bind` until Ctrl-C.
pub(crate) async fn run(db: Db, bind: &str, config: Config, ui: &Ui) -> Result<(), Failure> {
    let listener = tokio::net::TcpListener::bind(bind).await.map_err(|e| Failure::BadInput(format!("{bind}: {e}")))?;
    let addr = listener.local_addr().map_err(|e| Failure::Other(e.to_string()))?;
    ui.say(
        &format!("运营台已启动：http://{addr}/ （Ctrl-C 停止）"),
        &format!("opsdesk is serving at http://{addr}/ (Ctrl-C stops it)"),
    );
    tokio::select! {
        r = serve(db.clone(), listener, config) => r.map_err(|e| Failure::Other(e.to_string()))?,
        _ = tokio::signal::ctrl_c() => {}
    }
    db.close().await;
    Ok(())
}
