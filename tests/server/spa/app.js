"use strict";
// The test's single-page app: oidc-client-ts signs in with the code flow and PKCE, asks for an
// access token for the notes API (RFC 8707 resource), refreshes it and logs out through the
// end_session_endpoint. The harness serves /config.json (issuer, client, API) beside this file.
// window.spa is what the browser test calls; the buttons are what a user would press.

(async () => {
  const $ = (id) => document.getElementById(id);
  const config = await (await fetch("/config.json")).json();
  oidc.Log.setLogger(console);
  oidc.Log.setLevel(oidc.Log.WARN);
  const manager = new oidc.UserManager({
    authority: config.authority,
    client_id: config.client_id,
    redirect_uri: location.origin + "/callback",
    post_logout_redirect_uri: location.origin + "/signed-out",
    response_type: "code",
    scope: config.scope,
    resource: config.resource,
    automaticSilentRenew: false,
    userStore: new oidc.WebStorageStateStore({ store: window.sessionStorage }),
  });

  function status(state, text) {
    $("status").dataset.state = state;
    $("status").textContent = text;
  }

  function claims(jwt) {
    const part = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part));
  }

  function render(user) {
    const signedIn = Boolean(user && !user.expired);
    $("sign-in").hidden = signedIn;
    for (const id of ["call-api", "refresh", "sign-out"]) $(id).hidden = !signedIn;
    if (signedIn) {
      const at = claims(user.access_token);
      $("token").textContent = JSON.stringify(
        { aud: at.aud, scope: at.scope, sub: at.sub, client_id: at.client_id, jti: at.jti }, null, 2);
    } else {
      $("token").textContent = "(none)";
    }
    return signedIn;
  }

  async function callApi(token) {
    const out = $("api");
    try {
      const response = await fetch(config.api + "/me", { headers: { Authorization: "Bearer " + token } });
      const body = await response.text();
      out.dataset.status = String(response.status);
      out.textContent = response.status + " " + response.statusText + "\n" + body +
        (response.headers.get("WWW-Authenticate") ? "\nWWW-Authenticate: " + response.headers.get("WWW-Authenticate") : "");
      return { status: response.status, body, challenge: response.headers.get("WWW-Authenticate") };
    } catch (err) {
      out.dataset.status = "failed";
      out.textContent = "failed: " + err;
      return { status: 0, body: String(err), challenge: null };
    }
  }

  // A refresh with a given refresh token, straight to the token endpoint (after logout the
  // library has forgotten the user, and the test wants the old token's answer).
  async function refreshWith(refreshToken) {
    const endpoint = await manager.metadataService.getTokenEndpoint();
    const body = new URLSearchParams({
      grant_type: "refresh_token", refresh_token: refreshToken, client_id: config.client_id,
    });
    const response = await fetch(endpoint, { method: "POST", body });
    return { status: response.status, body: await response.json() };
  }

  async function tokens() {
    const user = await manager.getUser();
    return user && {
      access_token: user.access_token, refresh_token: user.refresh_token, id_token: user.id_token,
      scope: user.scope, profile: user.profile,
    };
  }

  $("sign-in").addEventListener("click", () => manager.signinRedirect());
  $("sign-out").addEventListener("click", () => manager.signoutRedirect({ state: "bye" }));
  $("call-api").addEventListener("click", async () => {
    const user = await manager.getUser();
    await callApi(user.access_token);
  });
  $("refresh").addEventListener("click", async () => {
    try {
      const user = await manager.signinSilent();
      render(user);
      status("refreshed", "Signed in as " + user.profile.name + " (token refreshed).");
    } catch (err) {
      status("error", "Refresh failed: " + err.message);
    }
  });
  window.spa = { callApi, refreshWith, tokens };

  try {
    if (location.pathname === "/callback") {
      await manager.signinRedirectCallback();
      history.replaceState(null, "", "/");
    } else if (location.pathname === "/signed-out") {
      const response = await manager.signoutRedirectCallback();
      history.replaceState(null, "", "/");
      render(null);
      status("logged-out", "Signed out (state " + response.userState + ").");
      return;
    }
  } catch (err) {
    render(null);
    status("error", "Sign-in failed: " + err.message);
    return;
  }
  const user = await manager.getUser();
  if (render(user)) {
    status("signed-in", "Signed in as " + user.profile.name + ".");
  } else {
    status("signed-out", "Not signed in.");
  }
})().catch((err) => {
  const el = document.getElementById("status");
  el.dataset.state = "error";
  el.textContent = "The app failed: " + err.message;
});
