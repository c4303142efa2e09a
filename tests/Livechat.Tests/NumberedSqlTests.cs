using Livechat.Data;

namespace Livechat.Tests;

/// <summary>
/// PostgreSQL batches send their statements with numbered parameters (Data/PostgresDatabase.cs): a name that
/// is not a parameter must stay as it is, or PostgreSQL would run different SQL than the code says.
/// </summary>
public sealed class NumberedSqlTests
{
    [Fact]
    public void NamesAreNumberedInOrderAndARepeatedNameKeepsItsNumber()
    {
        var numbered = NumberedSql.Number("SELECT a FROM t WHERE tenant_id = @tenant AND id = @id AND (SELECT 1 FROM u WHERE u.tenant_id = @tenant) = 1");
        Assert.Equal("SELECT a FROM t WHERE tenant_id = $1 AND id = $2 AND (SELECT 1 FROM u WHERE u.tenant_id = $1) = 1", numbered.Sql);
        Assert.Equal(["tenant", "id"], numbered.Names);
    }

    [Fact]
    public void LiteralsQuotedNamesAndCommentsAreLeftAlone()
    {
        var numbered = NumberedSql.Number("""
            -- by @nobody
            SELECT 'mail@example.com', 'it''s @not', "@col" /* @neither */ FROM t WHERE x = @x_1 || ' %'
            """);
        Assert.Equal("""
            -- by @nobody
            SELECT 'mail@example.com', 'it''s @not', "@col" /* @neither */ FROM t WHERE x = $1 || ' %'
            """, numbered.Sql);
        Assert.Equal(["x_1"], numbered.Names);
    }
}
