// A conformance run driven from Java, in plain JDK 17 (java.net.http, javax.xml; no jars):
//
//   java examples/java/ConformanceExample.java <adminUrl> <licenseServerUrl> <junitFile> [timeoutMs]
//
// It starts a run of the bundled plan on the mock, asks the license server under test for each
// case's license the way its own clients do (here: the reference license server's
// POST /license), posts what the client got back to the mock, and writes the run's JUnit XML to
// junitFile for CI. Exit status 0 when no case failed, 1 when one did, 2 on bad usage.
//
// To drive your own license server, change askLicense(): everything else stays.

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

public class ConformanceExample {
    public static void main(String[] args) throws Exception {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: java ConformanceExample.java <adminUrl> <licenseServerUrl> <junitFile> [timeoutMs]");
            System.exit(2);
        }
        String adminUrl = args[0].replaceAll("/+$", "");
        String licenseServerUrl = args[1].replaceAll("/+$", "");
        Path junitFile = Path.of(args[2]);
        // The license server's own timeout: the run expects it to give up on a hang within this (plus a second).
        int timeoutMs = args.length == 4 ? Integer.parseInt(args[3]) : 2000;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

        // 1. Start a run of the bundled plan: the answer lists what to ask for, case by case.
        HttpResponse<String> started = send(http, post(adminUrl + "/admin/conformance/runs", "{\"timeout\": " + timeoutMs + "}"), 15_000);
        require(started.statusCode() == 201, "POST /admin/conformance/runs", started);
        Map<String, Object> run = Json.object(started.body());
        String runId = (String) run.get("id");
        List<Object> cases = Json.list(run.get("cases"));
        System.out.println("run " + runId + ": " + cases.size() + " cases of plan " + run.get("plan"));

        // 2. Each case in order (the device-binding cases depend on it): ask, then post what the client got.
        for (Object each : cases) {
            Map<String, Object> ticket = Json.map(each);
            String caseId = (String) ticket.get("id");
            if (ticket.containsKey("notRun")) {
                System.out.println("  " + caseId + ": not run (" + ticket.get("notRun") + ")");
                continue;
            }
            String outcome = askLicense(http, licenseServerUrl, ticket, timeoutMs);
            HttpResponse<String> posted = send(http, post(adminUrl + "/admin/conformance/runs/" + runId + "/cases/" + caseId, outcome), 15_000);
            require(posted.statusCode() == 200, "POST the outcome of " + caseId, posted);
            Map<String, Object> verdict = Json.object(posted.body());
            System.out.println("  " + caseId + ": " + verdict.get("verdict") + ("pass".equals(verdict.get("verdict")) ? "" : " (" + verdict.get("reason") + ")"));
        }

        // 3. The verdicts as JUnit XML, for CI; read back with the JDK's XML parser.
        HttpResponse<String> junit = send(http, HttpRequest.newBuilder(URI.create(adminUrl + "/admin/conformance/runs/" + runId + "/junit")).GET(), 15_000);
        require(junit.statusCode() == 200, "GET the JUnit report", junit);
        if (junitFile.getParent() != null) Files.createDirectories(junitFile.getParent());
        Files.writeString(junitFile, junit.body());
        Document xml = DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(new ByteArrayInputStream(junit.body().getBytes(StandardCharsets.UTF_8)));
        NodeList suites = xml.getElementsByTagName("testsuite");
        require(suites.getLength() == 1, "one testsuite in the JUnit XML", junit);
        Element suite = (Element) suites.item(0);
        int tests = Integer.parseInt(suite.getAttribute("tests"));
        int failures = Integer.parseInt(suite.getAttribute("failures"));
        require(tests == cases.size() && xml.getElementsByTagName("testcase").getLength() == tests, "one testcase per case", junit);
        System.out.println("JUnit XML: " + junitFile + " (" + tests + " tests, " + failures + " failures, "
                + suite.getAttribute("errors") + " inconclusive, " + suite.getAttribute("skipped") + " not run)");

        // 4. The run's verdict, then end the run.
        HttpResponse<String> report = send(http, HttpRequest.newBuilder(URI.create(adminUrl + "/admin/conformance/runs/" + runId)).GET(), 15_000);
        require(report.statusCode() == 200, "GET the run", report);
        Object verdict = Json.object(report.body()).get("verdict");
        send(http, HttpRequest.newBuilder(URI.create(adminUrl + "/admin/conformance/runs/" + runId)).DELETE(), 15_000);
        System.out.println("ConformanceExample: the license server's verdict is " + verdict);
        System.exit(failures == 0 ? 0 : 1);
    }

    /**
     * Has the license server under test ask for the case's license, and says what its client got:
     * the outcome to post, {"license": "granted"|"refused", "code"?, "text"?, "elapsedMs"}.
     * Here the license server is the reference one: POST /license with the ticket's fields.
     */
    static String askLicense(HttpClient http, String licenseServerUrl, Map<String, Object> ticket, int timeoutMs) throws Exception {
        Map<String, Object> request = new LinkedHashMap<>();
        for (String field : List.of("contentID", "requestType", "customerCookie", "entitlementUrl"))
            if (ticket.containsKey(field)) request.put(field, ticket.get(field));
        long startedAt = System.nanoTime();
        try {
            // Wait past the license server's timeout: a correct one answers well within it.
            HttpResponse<String> answer = send(http, post(licenseServerUrl + "/license", Json.write(request)), timeoutMs + 1500);
            Map<String, Object> body = Json.object(answer.body());
            Map<String, Object> outcome = new LinkedHashMap<>();
            outcome.put("license", body.get("license"));
            if (body.get("code") != null) outcome.put("code", body.get("code"));
            if (body.get("text") != null) outcome.put("text", body.get("text"));
            outcome.put("elapsedMs", (System.nanoTime() - startedAt) / 1_000_000);
            return Json.write(outcome);
        } catch (HttpTimeoutException noAnswer) {
            return Json.write(Map.of("license", "refused", "text", "no answer from the license server", "elapsedMs", (System.nanoTime() - startedAt) / 1_000_000));
        }
    }

    static HttpRequest.Builder post(String url, String json) {
        return HttpRequest.newBuilder(URI.create(url)).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json));
    }

    static HttpResponse<String> send(HttpClient http, HttpRequest.Builder request, int timeoutMs) throws Exception {
        return http.send(request.timeout(Duration.ofMillis(timeoutMs)).build(), HttpResponse.BodyHandlers.ofString());
    }

    static void require(boolean holds, String what, HttpResponse<String> response) {
        if (holds) return;
        String body = response.body();
        System.out.println("FAILED: " + what + " (" + response.request().method() + " " + response.uri() + " answered "
                + response.statusCode() + ": " + body.substring(0, Math.min(400, body.length())) + ")");
        System.exit(1);
    }

    /** Just enough JSON for these answers (objects, arrays, strings, numbers, booleans, null); use a JSON library in real code. */
    static final class Json {
        private final String text;
        private int at = 0;

        private Json(String text) {
            this.text = text;
        }

        static Map<String, Object> object(String text) {
            Json json = new Json(text);
            Object value = json.value();
            json.space();
            if (json.at != text.length()) throw json.error("end of input");
            return map(value);
        }

        @SuppressWarnings("unchecked")
        static Map<String, Object> map(Object value) {
            if (!(value instanceof Map)) throw new IllegalArgumentException("expected a JSON object, got " + value);
            return (Map<String, Object>) value;
        }

        @SuppressWarnings("unchecked")
        static List<Object> list(Object value) {
            if (!(value instanceof List)) throw new IllegalArgumentException("expected a JSON array, got " + value);
            return (List<Object>) value;
        }

        static String write(Object value) {
            if (value == null) return "null";
            if (value instanceof Map<?, ?> map) {
                List<String> fields = new ArrayList<>();
                for (Map.Entry<?, ?> entry : map.entrySet()) fields.add(write(String.valueOf(entry.getKey())) + ":" + write(entry.getValue()));
                return "{" + String.join(",", fields) + "}";
            }
            if (value instanceof String string) {
                StringBuilder out = new StringBuilder("\"");
                for (char c : string.toCharArray()) {
                    if (c == '"' || c == '\\') out.append('\\').append(c);
                    else if (c < 0x20) out.append(String.format("\\u%04x", (int) c));
                    else out.append(c);
                }
                return out.append('"').toString();
            }
            return String.valueOf(value); // numbers, booleans
        }

        private Object value() {
            space();
            if (at >= text.length()) throw error("a value");
            char c = text.charAt(at);
            if (c == '{') {
                Map<String, Object> object = new LinkedHashMap<>();
                at++;
                space();
                if (peek('}')) return object;
                do {
                    space();
                    String name = string();
                    space();
                    expect(':');
                    object.put(name, value());
                    space();
                } while (peek(','));
                expect('}');
                return object;
            }
            if (c == '[') {
                List<Object> array = new ArrayList<>();
                at++;
                space();
                if (peek(']')) return array;
                do array.add(value());
                while (peek(','));
                space();
                expect(']');
                return array;
            }
            if (c == '"') return string();
            for (String word : List.of("true", "false", "null")) {
                if (text.startsWith(word, at)) {
                    at += word.length();
                    return word.equals("null") ? null : Boolean.valueOf(word);
                }
            }
            int start = at;
            while (at < text.length() && "+-0123456789.eE".indexOf(text.charAt(at)) >= 0) at++;
            if (start == at) throw error("a value");
            String number = text.substring(start, at);
            return number.matches("-?\\d+") ? (Object) Long.valueOf(number) : (Object) Double.valueOf(number);
        }

        private String string() {
            expect('"');
            StringBuilder out = new StringBuilder();
            while (at < text.length() && text.charAt(at) != '"') {
                char c = text.charAt(at++);
                if (c != '\\') {
                    out.append(c);
                    continue;
                }
                char escaped = text.charAt(at++);
                switch (escaped) {
                    case 'n' -> out.append('\n');
                    case 't' -> out.append('\t');
                    case 'r' -> out.append('\r');
                    case 'b' -> out.append('\b');
                    case 'f' -> out.append('\f');
                    case 'u' -> {
                        out.append((char) Integer.parseInt(text.substring(at, at + 4), 16));
                        at += 4;
                    }
                    default -> out.append(escaped);
                }
            }
            expect('"');
            return out.toString();
        }

        private void space() {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) at++;
        }

        private boolean peek(char c) {
            space();
            if (at < text.length() && text.charAt(at) == c) {
                at++;
                return true;
            }
            return false;
        }

        private void expect(char c) {
            if (!peek(c)) throw error("'" + c + "'");
        }

        private IllegalArgumentException error(String expected) {
            return new IllegalArgumentException("JSON: expected " + expected + " at character " + at + " of " + text.substring(0, Math.min(200, text.length())));
        }
    }
}
