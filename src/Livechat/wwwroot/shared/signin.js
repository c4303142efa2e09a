// Sign-in: paste a token and a tenant id; in Development also a form that mints a token (POST /dev/token,
// which exists only there: config.js, written by the service, says whether it does).
import { api, clearAuth, saveAuth } from "./api.js";
import { devSignIn } from "./config.js";
import { el, say } from "./dom.js";

/**
 * Renders the sign-in forms into `root` and resolves with the auth once a token works.
 * `check(auth)` proves the token with one API call and may refuse it (wrong role) by throwing an Error.
 */
export function signIn(root, { title, defaultRole, check }) {
  return new Promise((resolve) => {
    const error = el("p", { class: "notice error", role: "alert", testid: "signin-error", hidden: true });

    const accept = async (token, tenantId) => {
      say(error, "");
      try {
        const auth = saveAuth(token, tenantId);
        await check(auth);
        root.replaceChildren();
        resolve(auth);
      } catch (e) {
        clearAuth();
        say(error, e.message || "Sign-in failed.", "error");
      }
    };

    const token = el("textarea", { id: "token", rows: 4, required: true, spellcheck: "false", autocomplete: "off", testid: "token-input" });
    const tenant = el("input", { id: "tenant", inputmode: "numeric", required: true, pattern: "[0-9]+", value: "1", testid: "tenant-input" });
    const tokenForm = el("form", { class: "card stack", testid: "token-form", onsubmit: (e) => { e.preventDefault(); accept(token.value, tenant.value); } },
      el("h2", { text: "Sign in with a token" }),
      el("label", { for: "token", text: "Token (JWT)" }), token,
      el("label", { for: "tenant", text: "Tenant id" }), tenant,
      el("button", { type: "submit", class: "primary", testid: "token-submit", text: "Sign in" }));

    const devUser = el("input", { id: "dev-user", inputmode: "numeric", required: true, pattern: "[0-9]+", value: defaultRole === "SUPPORT_AGENT" ? "1" : "100", testid: "dev-user" });
    const devRole = el("select", { id: "dev-role", testid: "dev-role" });
    const devTenant = el("input", { id: "dev-tenant", inputmode: "numeric", required: true, pattern: "[0-9]+", value: "1", testid: "dev-tenant" });
    const devForm = el("form", { class: "card stack", testid: "dev-form", hidden: true, onsubmit: async (e) => {
      e.preventDefault();
      try {
        const minted = await api(null, "POST", "/dev/token", { user_id: Number(devUser.value), role: devRole.value, tenant_id: Number(devTenant.value) });
        await accept(minted.data.token, minted.data.tenant_id);
      } catch (err) {
        say(error, err.message, "error");
      }
    } },
      el("h2", { text: "Development: mint a token" }),
      el("p", { class: "hint", text: "Only a service running in Development offers this." }),
      el("label", { for: "dev-user", text: "User id" }), devUser,
      el("label", { for: "dev-role", text: "Role" }), devRole,
      el("label", { for: "dev-tenant", text: "Tenant id" }), devTenant,
      el("button", { type: "submit", class: "primary", testid: "dev-submit", text: "Mint a token and sign in" }));

    root.replaceChildren(el("section", { class: "signin", testid: "signin", "aria-labelledby": "signin-title" },
      el("h1", { id: "signin-title", text: title }), error, el("div", { class: "signin-forms" }, tokenForm, devForm)));

    if (devSignIn) {
      api(null, "GET", "/dev/token").then((offer) => {
        for (const role of offer.data.roles) devRole.append(el("option", { value: role, text: role, selected: role === defaultRole }));
        devForm.hidden = false;
      }, (e) => say(error, `The Development sign-in form is not available: ${e.message}`, "error"));
    }
  });
}
