namespace Livechat.Labels;

/// <summary>One of the tenant's labels and how many sessions carry it (<c>GET /livechat/labels</c>).</summary>
public sealed record TenantLabel(string Label, long SessionCount);

/// <summary><c>PUT /livechat/sessions/{id}/labels</c>: the session's labels from now on (replace-all).</summary>
public sealed record ReplaceLabelsRequest(IReadOnlyList<string> Labels);
