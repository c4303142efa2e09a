using System.Data.Common;
using Livechat.Data;

namespace Livechat.Changes;

/// <summary>
/// Something that happened to a tenant's data; published only after the change that caused it committed.
/// Immutable, like every event: what a change learns about an event from the database (a message's seq, who
/// hears it) makes a new copy (<see cref="ChangeScope.Happened"/>), which is the one published.
/// </summary>
public abstract record DomainEvent(long TenantId)
{
    /// <summary>
    /// A session's event: the session's agent and tenant-side participants as the event's own transaction saw
    /// them (who hears it on the per-user streams), learnt after every handler ran; null where nobody looked
    /// (an event of no session, typing, which is no write).
    /// </summary>
    public IReadOnlyList<long>? SessionUsers { get; init; }

    /// <summary>
    /// What the event needs to have happened, where the change that raises it learns that only from its rows (a
    /// planned message: its session may have closed): statements that handlers defer for the event add it to their
    /// SQL, so they write nothing for an event that did not happen. Null: it happened if its change commits.
    /// </summary>
    public virtual EventCondition? HappenedIf => null;
}

/// <summary>
/// An SQL condition that holds when an event happened (the row it made exists), over <c>@tenant</c> (the event's
/// tenant) and <c>@happened</c>, which a statement binds to <see cref="Happened"/>.
/// </summary>
public sealed record EventCondition(string Sql, Guid Happened)
{
    public const string Parameter = "happened";
}

/// <summary>
/// An event that only says "look again" (the queue moved, capacity was freed): its handlers read the state
/// when they run, so one copy waiting to be handled serves every equal one raised before it is handled.
/// <see cref="ChangeScope.Raise"/> drops such a copy. Without that, a change that requeued the chats of 64
/// agents raised 64 "queue moved" events, and each pushed every queued chat's position: 4,096 updates, the
/// same 64 of them 64 times, in one transaction that held the SQLite writer for most of a second.
/// </summary>
public interface ICoalescingEvent;

/// <summary>
/// What a feature's write returns: its outcome and the events it caused (none when nothing changed). A change
/// whose outcome its deferred statements decide (a send learns from its insert's row whether the session was
/// open) gives <see cref="Settle"/> instead, which answers once they ran.
/// </summary>
public readonly record struct Change<T>(T Outcome, IReadOnlyList<DomainEvent> Events)
{
    public Func<T>? Settle { get; init; }

    internal T Settled => Settle is { } settle ? settle() : Outcome;
}

public static class Change
{
    public static Change<T> Of<T>(T outcome, params DomainEvent[] events) => new(outcome, events);

    /// <summary>An outcome the change's deferred statements decide: <paramref name="outcome"/> is asked once they ran.</summary>
    public static Change<T> Later<T>(Func<T> outcome, params DomainEvent[] events) => new(default!, events) { Settle = outcome };
}

/// <summary>
/// The change handlers in the order every event meets them: one list, written out in one place (Startup), so
/// the order is a decision to read, not an accident of registration order across files.
/// </summary>
public sealed record ChangeHandlers(IReadOnlyList<IChangeHandler> InOrder);

/// <summary>The transaction a change runs in, and the events its handlers raise in turn.</summary>
public sealed class ChangeScope(DbConnection connection, DbTransaction transaction, DateTimeOffset now, PlanRun? run = null, Database? database = null)
{
    internal readonly List<DomainEvent> Events = [];
    internal readonly List<DomainEvent> Announced = [];

    /// <summary>How many of <see cref="Events"/> the handlers have started on; the rest wait.</summary>
    internal int Started;

    public DbConnection Connection { get; } = connection;
    public DbTransaction Transaction { get; } = transaction;

    /// <summary>One clock reading for the whole change, so every row it writes carries the same time.</summary>
    public DateTimeOffset Now { get; } = now;

    /// <summary>
    /// True while the change is being planned (<see cref="WritePath.RunAsync{T}(Func{ChangeScope, Task{Change{T}}}, IdempotencyClaim?, CancellationToken, Guid?, bool)"/>
    /// with <c>plannable</c>): nothing runs yet, so every statement is deferred, and what the rows decide (the
    /// outcome, whether an event happened) is settled by the readers (<see cref="Change.Later{T}"/>,
    /// <see cref="Happened"/>, <see cref="DidNotHappen"/>).
    /// </summary>
    public bool Planned => Run is not null;

    /// <summary>While planned: the run of plans this change's statements travel with (what they may share).</summary>
    public PlanRun? Run { get; } = run;

    /// <summary>A statement that runs now, in the change's transaction; a planned change has none.</summary>
    public DbCommand Sql(string sql) => Planned
        ? throw new InvalidOperationException("A planned change runs no statement of its own: defer it (Defer, DeferQuery).")
        : Connection.Sql(sql, Transaction);

    /// <summary>
    /// Every statement the change and its handlers deferred, in order. A reader may defer more (a follow-up):
    /// they run after the ones before them, still before the commit.
    /// </summary>
    internal readonly List<DeferredStatement> Deferred = [];

    /// <summary>How many of <see cref="Deferred"/> have run (unplanned: <see cref="RunDeferredAsync"/>).</summary>
    private int ran;

    /// <summary>
    /// Unplanned only: runs the statements deferred so far now (one round trip on PostgreSQL), so the change can
    /// decide on what their readers found (a read marker that moved or not). Follow-ups the readers deferred run too.
    /// </summary>
    public async Task RunDeferredAsync(CancellationToken cancellationToken)
    {
        if (Planned || database is null) throw new InvalidOperationException("A planned change cannot wait for its statements: it settles in their readers.");
        while (ran < Deferred.Count)
        {
            IReadOnlyList<DeferredStatement> next = ran == 0 ? Deferred : Deferred.GetRange(ran, Deferred.Count - ran);
            ran = Deferred.Count;
            await database.ExecuteAllAsync(next, Transaction, cancellationToken);
        }
    }

    private Dictionary<DomainEvent, DomainEvent?>? learnt;

    /// <summary>
    /// A reader learnt how <paramref name="raised"/> really happened (the seq the database gave a message, who
    /// hears it): <paramref name="asItHappened"/>, a copy made with <c>with</c>, is published in its place.
    /// </summary>
    public void Happened(DomainEvent raised, DomainEvent asItHappened) =>
        (learnt ??= new(ReferenceEqualityComparer.Instance))[raised] = asItHappened;

    /// <summary>
    /// A reader learnt that <paramref name="raised"/> did not happen (a message to a session that was not open):
    /// it is not published. What the handlers deferred for it wrote nothing: their SQL requires what it made.
    /// </summary>
    public void DidNotHappen(DomainEvent raised) => (learnt ??= new(ReferenceEqualityComparer.Instance))[raised] = null;

    /// <summary>The event as the readers have learnt it so far; null once it is known not to have happened.</summary>
    public DomainEvent? AsItHappened(DomainEvent raised) => learnt is not null && learnt.TryGetValue(raised, out var known) ? known : raised;

    /// <summary>What is published once the change committed: its events as they happened, then those announced.</summary>
    internal IReadOnlyList<DomainEvent> Published()
    {
        if (learnt is null && Announced.Count == 0) return Events;
        var published = new List<DomainEvent>(Events.Count + Announced.Count);
        foreach (var raised in Events)
        {
            if (AsItHappened(raised) is { } happened) published.Add(happened);
        }
        published.AddRange(Announced);
        return published;
    }

    /// <summary>
    /// A statement whose result nobody waits for (a read marker, an outbox row): bind its parameters and it runs
    /// with the change's other deferred statements in one round trip (one batch on PostgreSQL), after every
    /// handler and before the commit. It still commits, or rolls back, with the change.
    /// </summary>
    public DbCommand Defer(string sql) => Add(sql, null, false);

    /// <summary>
    /// A deferred statement whose SQL writes nothing unless the deferred statement just before it wrote a row
    /// (an outbox event's deliveries): where statements run one by one (SQLite), it is then not run at all.
    /// </summary>
    public DbCommand DeferIfPreviousWrote(string sql) => Add(sql, null, true);

    /// <summary>
    /// A query that runs with the deferred statements, after every handler (so it sees all they wrote), whose
    /// rows go to <paramref name="read"/> before the commit. It may not raise events, since the handlers are
    /// done; it may <see cref="Announce"/> them, say how one happened (<see cref="Happened"/>, <see cref="DidNotHappen"/>),
    /// and defer follow-up statements, which run after the ones sent with it.
    /// </summary>
    public DbCommand DeferQuery(string sql, Func<DbDataReader, CancellationToken, Task> read) => Add(sql, read, false);

    private DbCommand Add(string sql, Func<DbDataReader, CancellationToken, Task>? read, bool onlyIfPreviousWrote)
    {
        var command = Connection.Sql(sql, Transaction);
        Deferred.Add(new DeferredStatement(command, read, onlyIfPreviousWrote));
        return command;
    }

    /// <summary>
    /// SQLite: adds the row (<paramref name="tenantId"/>, <paramref name="id"/>) to what <paramref name="statement"/> handles
    /// once for the whole batch this change commits in, after every write of it and just before the commit (<see cref="BatchEndStatement"/>).
    /// </summary>
    public void AtBatchEnd(BatchEndStatement statement, long tenantId, Guid id) =>
        (database ?? throw new InvalidOperationException("This change runs outside the write path: it has no batch.")).AtBatchEnd(statement, tenantId, id);

    /// <summary>
    /// A follow-up event: handled in this transaction, published after it. An <see cref="ICoalescingEvent"/>
    /// equal to one that is still waiting for its handlers is dropped: that one will see what both meant.
    /// </summary>
    public void Raise(DomainEvent domainEvent)
    {
        if (domainEvent is ICoalescingEvent && Events.Skip(Started).Contains(domainEvent)) return;
        Events.Add(domainEvent);
    }

    /// <summary>
    /// An event a deferred query found (the notifications a reply created): the handlers have run, so no handler
    /// sees it; it is published after the commit, after the change's other events.
    /// </summary>
    public void Announce(DomainEvent domainEvent) => Announced.Add(domainEvent);
}

/// <summary>Runs in the change's transaction for each of its events: what must commit with it, or not at all.</summary>
public interface IChangeHandler
{
    Task HandleAsync(DomainEvent domainEvent, ChangeScope scope, CancellationToken cancellationToken);
}

/// <summary>Hears each committed event, in commit order, on the writer loop: it must be quick and not block (queue work).</summary>
public interface IEventSink
{
    void Publish(DomainEvent domainEvent);
}

/// <summary>The outcome of a write, or the news that its idempotency key is held by another request.</summary>
public abstract record Written<T>
{
    public sealed record Done(T Outcome, IReadOnlyList<DomainEvent> Events) : Written<T>;

    /// <summary>Nothing was written: another request holds the key (the middleware answers from its record).</summary>
    public sealed record KeyTaken : Written<T>;
}

/// <summary>
/// The one write path (docs/decisions/0005-one-write-path.md). A feature's change runs in a transaction of
/// the database engine; then, in that same transaction, every <see cref="IChangeHandler"/> sees every event
/// (and the events handlers raise, in turn); the engine commits; and only then the events go to every
/// <see cref="IEventSink"/> in commit order. Features never call each other: they meet at events.
/// A change that needs no answer from the database to decide what to write (a plain message) can also be
/// planned: the same code, with every statement deferred, so that PostgreSQL gets a whole batch of such
/// changes in one round trip (docs/decisions/0023-planned-writes-pipeline.md).
/// </summary>
public sealed class WritePath(Database database, ChangeHandlers handlers, IEnumerable<IEventSink> sinks, TimeProvider time,
    ILogger<WritePath> logger)
{
    private readonly IChangeHandler[] handlers = [.. handlers.InOrder];
    private readonly IEventSink[] sinks = sinks.ToArray();

    /// <summary>Runs a change without an idempotency key and returns its outcome.</summary>
    public async Task<T> RunAsync<T>(Func<ChangeScope, Task<Change<T>>> change, CancellationToken cancellationToken, Guid? orderKey = null) =>
        ((Written<T>.Done)await RunAsync(change, null, cancellationToken, orderKey)).Outcome;

    /// <summary>
    /// Runs a change; with a <paramref name="claim"/>, records the key in the same transaction first, and when
    /// another request holds it writes nothing and answers <see cref="Written{T}.KeyTaken"/>.
    /// <paramref name="orderKey"/> (a session id) keeps the events of one session in commit order.
    /// <paramref name="plannable"/> says the change can also be planned (<see cref="ChangeScope.Planned"/>): then,
    /// without a claim, the engine may pipeline it with the other writes of its batch (one round trip for all).
    /// </summary>
    public Task<Written<T>> RunAsync<T>(Func<ChangeScope, Task<Change<T>>> change, IdempotencyClaim? claim, CancellationToken cancellationToken,
        Guid? orderKey = null, bool plannable = false) =>
        database.WriteAsync<Written<T>>(async (connection, transaction) =>
        {
            var scope = new ChangeScope(connection, transaction, time.Now(), database: database);
            if (claim is not null && !await claim.TryClaimAsync(connection, transaction, scope.Now, cancellationToken))
                return new Written<T>.KeyTaken();
            var result = await HandleAsync(change, scope, cancellationToken);
            await scope.RunDeferredAsync(cancellationToken);
            return Done(result, scope);
        }, cancellationToken, written =>
        {
            if (written is not Written<T>.Done done)
            {
                claim?.MarkTaken();
                return;
            }
            claim?.MarkCommitted();
            Publish(done.Events);
        }, orderKey, plannable && claim is null ? async run =>
        {
            var scope = new ChangeScope(run.Connection, run.Transaction, time.Now(), run, database);
            var result = await HandleAsync(change, scope, cancellationToken);
            return new PlannedWrite<Written<T>>(scope.Deferred, () => Done(result, scope));
        } : null);

    /// <summary>The change, then every handler for each of its events (and for the events handlers raise, in turn).</summary>
    private async Task<Change<T>> HandleAsync<T>(Func<ChangeScope, Task<Change<T>>> change, ChangeScope scope, CancellationToken cancellationToken)
    {
        var result = await change(scope);
        foreach (var domainEvent in result.Events) scope.Raise(domainEvent);
        // A plain loop over a growing list: raised events are handled too, in order.
        for (var i = 0; i < scope.Events.Count; i++)
        {
            scope.Started = i + 1;
            foreach (var handler in handlers) await handler.HandleAsync(scope.Events[i], scope, cancellationToken);
        }
        return result;
    }

    private static Written<T>.Done Done<T>(Change<T> result, ChangeScope scope) => new(result.Settled, scope.Published());

    private void Publish(IReadOnlyList<DomainEvent> events)
    {
        List<Exception>? failures = null;
        foreach (var domainEvent in events)
        {
            foreach (var sink in sinks)
            {
                try
                {
                    sink.Publish(domainEvent);
                }
                catch (Exception e)
                {
                    // Every other sink still hears of it; the caller learns that something after the commit failed.
                    logger.LogError(e, "Publishing a committed {Event} to {Sink} failed.", domainEvent.GetType().Name, sink.GetType().Name);
                    (failures ??= []).Add(e);
                }
            }
        }
        if (failures is not null) throw new AggregateException("A committed change could not be published.", failures);
    }
}
