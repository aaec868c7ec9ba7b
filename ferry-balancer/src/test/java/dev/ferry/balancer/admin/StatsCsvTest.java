package dev.ferry.balancer.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The rows of {@code /stats;csv} and its text table, from figures given here (no balancer). */
class StatsCsvTest {

    /** HAProxy's header, fields 0 to 76, as its management guide (§9.1) lists them and it writes them. */
    private static final String HEADER = "# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,"
            + "wretr,wredis,status,weight,act,bck,chkfail,chkdown,lastchg,downtime,qlimit,pid,iid,sid,throttle,lbtot,"
            + "tracked,type,rate,rate_lim,rate_max,check_status,check_code,check_duration,hrsp_1xx,hrsp_2xx,hrsp_3xx,"
            + "hrsp_4xx,hrsp_5xx,hrsp_other,hanafail,req_rate,req_rate_max,req_tot,cli_abrt,srv_abrt,comp_in,comp_out,"
            + "comp_byp,comp_rsp,lastsess,last_chk,last_agt,qtime,ctime,rtime,ttime,agent_status,agent_code,"
            + "agent_duration,check_desc,agent_desc,check_rise,check_fall,check_health,agent_rise,agent_fall,"
            + "agent_health,addr,cookie,mode,algo,";

    private static final StatsCsv.Frontend FRONTEND = new StatsCsv.Frontend("ftp", 3, 7, 1000, 42, 1200, 3400, 1.6);
    private static final StatsCsv.Server S1 = new StatsCsv.Server("s1", "10.0.1.11:21", "UP", true, 2, 3, 5, 30, 1000,
            3000, 1, 0, 0, 600, 0, 4L, "230 ok", 2, 3);
    private static final StatsCsv.Server S2 = new StatsCsv.Server("s2", "10.0.1.12:21", "DOWN", false, 1, 0, 2, 12, 200,
            400, 6, 9, 1, 45, 45, 3000L, "connect refused", 2, 3);
    private static final StatsCsv.Pool POOL = new StatsCsv.Pool(0, 6, 4, "round-robin");

    private static List<String[]> rows() {
        return StatsCsv.rows(FRONTEND, List.of(S1, S2), POOL);
    }

    /** Field {@code n} (1-based, as {@code cut -f}) of {@code line}: these lines quote nothing. */
    private static String cut(String line, int n) {
        return line.split(",", -1)[n - 1];
    }

    @Test
    void theHeaderIsHaproxysInItsOrder() {
        String csv = StatsCsv.csv(rows());
        assertThat(csv.lines().findFirst()).hasValue(HEADER);
        assertThat(StatsCsv.COLUMNS).hasSize(77).startsWith("pxname", "svname", "qcur", "qmax", "scur", "smax", "slim",
                "stot", "bin", "bout");
    }

    @Test
    void everyLineHasEveryFieldAndEndsWithACommaAsHaproxys() {
        List<String> lines = StatsCsv.csv(rows()).lines().toList();
        assertThat(lines).hasSize(5);
        for (String line : lines) {
            assertThat(line).endsWith(",");
            assertThat(line.split(",", -1)).as(line).hasSize(StatsCsv.COLUMNS.size() + 1);
        }
    }

    @Test
    void frontendServersAndBackendCarryTheirFiguresInHaproxysColumns() {
        List<String> lines = StatsCsv.csv(rows()).lines().toList();
        // cut -d, -f1,2,5,6,7,8,9,10,18,33,34: pxname svname scur smax slim stot bin bout status type rate
        String fe = lines.get(1);
        assertThat(List.of(cut(fe, 1), cut(fe, 2), cut(fe, 5), cut(fe, 6), cut(fe, 7), cut(fe, 8), cut(fe, 9), cut(fe, 10),
                cut(fe, 18), cut(fe, 33), cut(fe, 34)))
                .containsExactly("ftp", "FRONTEND", "3", "7", "1000", "42", "1200", "3400", "OPEN", "0", "2");
        String s2 = lines.get(3);
        // status weight act bck chkfail chkdown lastchg downtime ... type check_duration check_rise check_fall addr
        assertThat(List.of(cut(s2, 2), cut(s2, 14), cut(s2, 18), cut(s2, 19), cut(s2, 20), cut(s2, 21), cut(s2, 22),
                cut(s2, 23), cut(s2, 24), cut(s2, 25), cut(s2, 31), cut(s2, 33), cut(s2, 39), cut(s2, 66), cut(s2, 68),
                cut(s2, 69), cut(s2, 74)))
                .containsExactly("s2", "6", "DOWN", "1", "1", "0", "9", "1", "45", "45", "12", "2", "3000",
                        "connect refused", "2", "3", "10.0.1.12:21");
        String be = lines.get(4);
        // qcur scur smax stot bin bout econ wredis status weight act type algo
        assertThat(List.of(cut(be, 2), cut(be, 3), cut(be, 5), cut(be, 6), cut(be, 8), cut(be, 9), cut(be, 10), cut(be, 14),
                cut(be, 17), cut(be, 18), cut(be, 19), cut(be, 20), cut(be, 33), cut(be, 77)))
                .containsExactly("BACKEND", "0", "3", "6", "42", "1200", "3400", "7", "4", "UP", "2", "1", "1", "round-robin");
        // Columns Ferry has no figure for stay empty: dreq, ereq, hrsp_2xx, mode.
        assertThat(List.of(cut(fe, 11), cut(fe, 13), cut(fe, 41), cut(fe, 76))).containsOnly("");
    }

    @Test
    void aBackendWithNoServerTakingTrafficIsDown() {
        StatsCsv.Server maint = new StatsCsv.Server("s1", "10.0.1.11:21", "MAINT", true, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0,
                null, null, 2, 3);
        List<String[]> rows = StatsCsv.rows(FRONTEND, List.of(maint, S2), POOL);
        String be = StatsCsv.csv(rows).lines().toList().get(4);
        assertThat(List.of(cut(be, 18), cut(be, 19), cut(be, 20))).containsExactly("DOWN", "0", "0");
        // No check yet: check_duration and check_desc empty.
        String s1 = StatsCsv.csv(rows).lines().toList().get(2);
        assertThat(List.of(cut(s1, 39), cut(s1, 66))).containsOnly("");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '\'', value = {
            "plain           | plain",
            "a,b             | \"a,b\"",
            "say \"hi\"      | \"say \"\"hi\"\"\"",
            "''              | ''"})
    void fieldsAreQuotedAsRfc4180Says(String field, String expected) {
        assertThat(StatsCsv.quoted(field == null ? "" : field)).isEqualTo(expected == null ? "" : expected);
    }

    @Test
    void lineBreaksAreQuotedToo() {
        assertThat(StatsCsv.quoted("x\ny")).isEqualTo("\"x\ny\"");
        assertThat(StatsCsv.quoted("x\r\ny")).isEqualTo("\"x\r\ny\"");
    }

    @Test
    void aQuotedFieldKeepsTheOthersInTheirColumns() {
        StatsCsv.Server odd = new StatsCsv.Server("s1", "10.0.1.11:21", "DOWN", false, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1,
                7L, "550 no, \"really\"", 2, 3);
        String line = StatsCsv.csv(StatsCsv.rows(FRONTEND, List.of(odd), POOL)).lines().toList().get(2);
        assertThat(line).contains(",\"550 no, \"\"really\"\"\",");
        // Parsed as RFC 4180 says, the row still has every column.
        assertThat(rfc4180Fields(line)).hasSize(StatsCsv.COLUMNS.size() + 1)
                .satisfies(f -> assertThat(f.get(65)).isEqualTo("550 no, \"really\""))
                .satisfies(f -> assertThat(f.get(73)).isEqualTo("10.0.1.11:21"));
    }

    @Test
    void theTextTableHasFixedWidthColumnsAndTheSameFigures() {
        List<String> lines = StatsCsv.table(rows()).lines().toList();
        assertThat(lines).hasSize(5);
        assertThat(lines.get(0)).startsWith("name      status").contains("sessions", "bytes_in", "downtime_s", "address");
        assertThat(lines.get(1)).startsWith("FRONTEND  OPEN");
        assertThat(lines.get(3)).startsWith("s2        DOWN").endsWith("10.0.1.12:21");
        assertThat(lines.get(4)).startsWith("BACKEND   UP");
        // Fixed width: every figure column ends where its heading ends.
        int sessionsEnd = lines.get(0).indexOf("sessions") + "sessions".length();
        for (String line : lines.subList(1, lines.size())) {
            assertThat(line.charAt(sessionsEnd - 1)).as(line).isNotEqualTo(' ');
            assertThat(line.charAt(sessionsEnd)).as(line).isEqualTo(' ');
        }
        assertThat(lines.get(1).split(" +")).contains("-"); // empty figures show as '-'
    }

    /** A small RFC 4180 reader for one line (the test's own, so that it checks the writer). */
    private static List<String> rfc4180Fields(String line) {
        List<String> fields = new java.util.ArrayList<>();
        StringBuilder f = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < line.length() && line.charAt(i + 1) == '"') {
                    f.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    f.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                fields.add(f.toString());
                f.setLength(0);
            } else {
                f.append(c);
            }
        }
        fields.add(f.toString());
        return fields;
    }
}
