//! Accounts: registration, login, sessions and personal tokens with scopes, expiry and
//! revocation.

use std::sync::Arc;

use time::Duration;

use super::support::*;
use crate::engine::{Engine, EngineConfig, NewComment, NewTask, NewToken, NewUser};
use crate::error::{Conflict, Error};
use crate::model::TokenScope;
use crate::store::Store;
use crate::testkit::fixture::START;
use crate::testkit::Fixture;
use crate::ManualClock;

fn new_user(email: &str, password: &str, name: &str) -> NewUser {
    NewUser {
        email: email.into(),
        password: password.into(),
        name: name.into(),
    }
}

/// First user is server admin; e-mails unique ignoring case; login, tokens and logout behave.
pub async fn accounts_register_login_and_tokens<S: Store>(store: S) {
    let clock = Arc::new(ManualClock::new(START));
    let engine = Engine::builder_shared(Arc::new(store))
        .clock(clock.clone())
        .config(EngineConfig::for_tests())
        .build();
    let accounts = engine.accounts();

    // The first registered user administers the server; the second does not.
    let (ada, ada_token) = ok(
        accounts
            .register(new_user("Ada@Example.com", "correct horse", "Ada Lovelace"))
            .await,
        "register the first user",
    );
    assert!(ada.is_server_admin, "the first user is a server admin");
    let (bob, bob_token) = ok(
        accounts
            .register(new_user("bob@example.com", "battery staple", "Bob"))
            .await,
        "register the second user",
    );
    assert!(
        !bob.is_server_admin,
        "the second user is not a server admin"
    );

    // Secrets are recognisable and only their hash is stored.
    for issued in [&ada_token, &bob_token] {
        assert!(
            issued.secret.starts_with("tl_"),
            "secret {} starts with tl_",
            issued.secret
        );
        assert_ne!(
            issued.token.secret_hash, issued.secret,
            "the stored token holds a hash, not the secret"
        );
        assert!(
            !issued.token.secret_hash.contains(&issued.secret),
            "the stored hash does not embed the secret"
        );
    }
    let stored = ok(
        engine
            .store()
            .token(ada_token.token.id)
            .await
            .map_err(Error::from),
        "read the token record",
    )
    .expect("the token is stored");
    assert_ne!(
        stored.secret_hash, ada_token.secret,
        "the store keeps only the hash"
    );

    // E-mail addresses are unique ignoring case.
    let dup = conflict(
        accounts
            .register(new_user("ADA@example.COM", "another password", "Ada Again"))
            .await,
        "register a taken e-mail in another case",
    );
    assert!(
        matches!(&dup, Conflict::Duplicate { field, .. } if field == "email"),
        "duplicate e-mail names the field email, got {dup:?}"
    );

    // Every bad field is listed at once.
    invalid_exactly(
        accounts
            .register(new_user("not-an-email", "short", "  "))
            .await,
        &["email", "password", "name"],
        "register with a bad e-mail, a short password and an empty name",
    );

    // Login: wrong password, unknown e-mail and disabled users are all unauthenticated.
    clock.advance(Duration::minutes(5));
    unauthenticated(
        accounts.login("bob@example.com", "wrong password").await,
        "login with a wrong password",
    );
    unauthenticated(
        accounts.login("nobody@example.com", "battery staple").await,
        "login with an unknown e-mail",
    );
    let (_, bob_session) = ok(
        accounts.login("BOB@example.com", "battery staple").await,
        "login ignoring the e-mail's case",
    );
    let bob_actor = ok(
        accounts.authenticate(&bob_session.secret).await,
        "authenticate a session",
    );
    assert_eq!(bob_actor.user_id, bob.id, "the session acts as Bob");
    assert_eq!(bob_actor.token_id, Some(bob_session.token.id));
    assert!(bob_actor.can_write, "a session may write");
    assert!(!bob_actor.is_server_admin);
    assert_eq!(
        ok(accounts.me(&bob_actor).await, "me").email,
        "bob@example.com"
    );

    let ada_actor = ok(
        accounts.authenticate(&ada_token.secret).await,
        "authenticate Ada",
    );
    assert!(ada_actor.is_server_admin, "Ada's actor is a server admin");
    unauthenticated(
        accounts.authenticate("tl_not-a-real-token").await,
        "authenticate an unknown secret",
    );
    unauthenticated(accounts.authenticate("").await, "authenticate nothing");

    // Tokens list shows the active ones only; logout revokes the session token.
    let listed = ok(accounts.list_tokens(&bob_actor).await, "list Bob's tokens");
    let ids: Vec<_> = listed.iter().map(|t| t.id).collect();
    assert_eq!(
        ids,
        vec![bob_token.token.id, bob_session.token.id],
        "Bob's registration and login sessions, oldest first"
    );
    ok(accounts.logout(&bob_actor).await, "logout");
    unauthenticated(
        accounts.authenticate(&bob_session.secret).await,
        "a logged-out session",
    );
    let listed = ok(accounts.list_tokens(&bob_actor).await, "list after logout");
    assert_eq!(
        listed.iter().map(|t| t.id).collect::<Vec<_>>(),
        vec![bob_token.token.id],
        "the revoked session is no longer listed"
    );
    assert!(
        listed.iter().all(|t| t.revoked_at.is_none()),
        "only active tokens are listed"
    );
    // The other token still works.
    ok(
        accounts.authenticate(&bob_token.secret).await,
        "the registration token still works",
    );

    // A disabled user cannot log in and their tokens stop working.
    ok(
        accounts.set_disabled(&ada_actor, bob.id, true).await,
        "Ada disables Bob",
    );
    unauthenticated(
        accounts.login("bob@example.com", "battery staple").await,
        "login of a disabled user",
    );
    unauthenticated(
        accounts.authenticate(&bob_token.secret).await,
        "a disabled user's token",
    );
    forbidden(
        accounts.set_disabled(&bob_actor, ada.id, true).await,
        "a non-admin disables someone",
    );
    ok(
        accounts.set_disabled(&ada_actor, bob.id, false).await,
        "Ada enables Bob again",
    );
    ok(
        accounts.login("bob@example.com", "battery staple").await,
        "login after re-enabling",
    );
}

/// Read tokens never write; expiry, revocation and password resets end tokens.
pub async fn accounts_token_scopes_expiry_and_revocation<S: Store>(store: S) {
    let f = Fixture::new(store).await;
    let accounts = f.engine.accounts();
    let (_, session) = ok(
        accounts.login("mia@example.com", "password123").await,
        "Mia logs in",
    );
    let mia = ok(
        accounts.authenticate(&session.secret).await,
        "Mia's session",
    );
    let task = f.task("Readable").await;

    // A read-only personal token.
    let read = ok(
        accounts
            .create_token(
                &mia,
                NewToken {
                    name: "dashboard".into(),
                    scopes: vec![TokenScope::Read],
                    expires_at: None,
                },
            )
            .await,
        "create a read token",
    );
    assert_eq!(read.token.scopes, vec![TokenScope::Read]);
    let reader = ok(
        accounts.authenticate(&read.secret).await,
        "authenticate the read token",
    );
    assert!(!reader.can_write, "a read token cannot write");
    ok(
        f.engine.tasks().get(&reader, &by_id(task.task.id)).await,
        "a read token reads a task",
    );
    ok(
        f.engine.projects().get(&reader, f.project.id).await,
        "a read token reads the project",
    );
    forbidden(
        f.engine
            .tasks()
            .create(
                &reader,
                f.project.id,
                NewTask {
                    title: "Nope".into(),
                    ..NewTask::default()
                },
            )
            .await,
        "a read token creates a task",
    );
    forbidden(
        f.engine
            .comments()
            .create(
                &reader,
                &by_id(task.task.id),
                NewComment {
                    body: "hello".into(),
                    parent_id: None,
                },
            )
            .await,
        "a read token comments",
    );
    forbidden(
        f.engine.workspaces().create(&reader, "Mine").await,
        "a read token creates a workspace",
    );
    forbidden(
        accounts
            .create_token(
                &reader,
                NewToken {
                    name: "escalate".into(),
                    scopes: vec![TokenScope::Write],
                    expires_at: None,
                },
            )
            .await,
        "a read token issues a write token",
    );

    // Expiry must lie in the future.
    invalid_field(
        accounts
            .create_token(
                &mia,
                NewToken {
                    name: "past".into(),
                    scopes: vec![],
                    expires_at: Some(f.engine.now() - Duration::hours(1)),
                },
            )
            .await,
        "expires_at",
        "a token expiring in the past",
    );

    // A token expiring later works until the clock passes its expiry.
    let short = ok(
        accounts
            .create_token(
                &mia,
                NewToken {
                    name: "short-lived".into(),
                    scopes: vec![],
                    expires_at: Some(f.engine.now() + Duration::hours(1)),
                },
            )
            .await,
        "create a token expiring in an hour",
    );
    let short_actor = ok(
        accounts.authenticate(&short.secret).await,
        "the token works before expiry",
    );
    assert!(short_actor.can_write, "no scopes means read and write");
    f.clock.advance(Duration::minutes(59));
    ok(
        accounts.authenticate(&short.secret).await,
        "the token works a minute before expiry",
    );
    f.clock.advance(Duration::minutes(2));
    unauthenticated(
        accounts.authenticate(&short.secret).await,
        "the token after its expiry",
    );
    assert!(
        !ok(accounts.list_tokens(&mia).await, "list tokens")
            .iter()
            .any(|t| t.id == short.token.id),
        "an expired token is not listed"
    );

    // Revocation.
    let ci = ok(
        accounts
            .create_token(
                &mia,
                NewToken {
                    name: "CI".into(),
                    scopes: vec![TokenScope::Read, TokenScope::Write],
                    expires_at: None,
                },
            )
            .await,
        "create a CI token",
    );
    ok(
        accounts.authenticate(&ci.secret).await,
        "the CI token works",
    );
    // With an expected version (HTTP `If-Match`), a stale one refuses the revocation. Recording
    // the token's first use moved its version.
    let current = ok(accounts.list_tokens(&mia).await, "list tokens")
        .into_iter()
        .find(|t| t.id == ci.token.id)
        .expect("the CI token is listed");
    assert!(
        current.version > ci.token.version,
        "recording the first use changes the version"
    );
    let stale = conflict(
        accounts
            .revoke_token(&mia, ci.token.id, Some(ci.token.version))
            .await,
        "revoking with a stale version",
    );
    assert!(
        matches!(stale, Conflict::StaleVersion { .. }),
        "got {stale:?}"
    );
    ok(
        accounts.authenticate(&ci.secret).await,
        "a refused revocation leaves the token working",
    );
    ok(
        accounts
            .revoke_token(&mia, ci.token.id, Some(current.version))
            .await,
        "revoke the CI token at its current version",
    );
    unauthenticated(accounts.authenticate(&ci.secret).await, "a revoked token");
    not_found(
        accounts.revoke_token(&mia, ci.token.id, None).await,
        "revoking an already revoked token",
    );

    // Another user's token is not found.
    let (_, owner_session) = ok(
        accounts.login("olivia@example.com", "password123").await,
        "Olivia logs in",
    );
    not_found(
        accounts
            .revoke_token(&mia, owner_session.token.id, None)
            .await,
        "revoking another user's token",
    );
    ok(
        accounts.authenticate(&owner_session.secret).await,
        "the other user's token still works",
    );

    // A password reset revokes every token of the user.
    ok(
        accounts
            .reset_password(None, "mia@example.com", "a brand new password")
            .await,
        "reset Mia's password",
    );
    unauthenticated(
        accounts.authenticate(&session.secret).await,
        "the session after a reset",
    );
    unauthenticated(
        accounts.authenticate(&read.secret).await,
        "the read token after a reset",
    );
    unauthenticated(
        accounts.login("mia@example.com", "password123").await,
        "login with the old password",
    );
    let (_, fresh) = ok(
        accounts
            .login("mia@example.com", "a brand new password")
            .await,
        "login with the new password",
    );
    ok(
        accounts.authenticate(&fresh.secret).await,
        "the new session works",
    );
}
