//! A private etcd server with authentication on, and the users and roles
//! a test asks for.

use tenure_etcd::etcd_client::Permission;

use super::{EtcdServer, admin_client};

/// One user of [`start_with_users`]: name, password, and the role (its
/// name and its one permission) granted to it, if any.
pub type User<'a> = (&'a str, &'a str, Option<(&'a str, Permission)>);

/// Starts a private server, adds `root` (password `rootpw`) and `users`,
/// and turns authentication on. Panics if any step fails.
pub async fn start_with_users(users: &[User<'_>]) -> EtcdServer {
    let server = tokio::task::spawn_blocking(EtcdServer::start)
        .await
        .expect("starting etcd");
    let mut admin = admin_client(server.addr()).await.expect("admin client");
    admin.user_add("root", "rootpw", None).await.expect("root");
    admin
        .user_grant_role("root", "root")
        .await
        .expect("root role");
    for (user, password, role) in users {
        if let Some((role, permission)) = role {
            admin.role_add(*role).await.expect("role");
            admin
                .role_grant_permission(*role, permission.clone())
                .await
                .expect("permission");
        }
        admin.user_add(*user, *password, None).await.expect("user");
        if let Some((role, _)) = role {
            admin.user_grant_role(*user, *role).await.expect("grant");
        }
    }
    admin.auth_enable().await.expect("auth enable");
    server
}
