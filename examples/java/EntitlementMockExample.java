// What a license server's integration test does against entitlement-mock, in plain JDK 17:
// java.net.http and an in-memory PKCS12 key store made from the mock's PEM files. No build tool,
// no third-party jars:
//
//   java examples/java/EntitlementMockExample.java <adminUrl> <entitlementUrl> <certsDir>
//
// It creates a session for its own contentIDs with a deny rule and a messageID-mismatch rule,
// sends two Entitlement Requests with the client certificate, checks the answers, waits on the
// journal for its two requests and deletes the session. Exit status 0 when every check held.

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.Base64;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

public class EntitlementMockExample {
    private static int failures = 0;

    public static void main(String[] args) throws Exception {
        if (args.length != 3) {
            System.err.println("usage: java EntitlementMockExample.java <adminUrl> <entitlementUrl> <certsDir>");
            System.exit(2);
        }
        String adminUrl = args[0].replaceAll("/+$", "");
        String entitlementUrl = args[1];
        Path certs = Path.of(args[2]);

        HttpClient admin = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        // The license server's side: trust the mock's CA, present the client certificate.
        HttpClient licenseServer = HttpClient.newBuilder()
                .sslContext(mutualTls(certs.resolve("ca.crt"), certs.resolve("client.crt"), certs.resolve("client.key")))
                .connectTimeout(Duration.ofSeconds(5))
                .build();

        // 1. A session for this test's contentIDs: the deny and mismatch rules answer only its requests.
        String prefix = "java-" + UUID.randomUUID().toString().substring(0, 8) + "-";
        String sessionId = prefix + "session";
        String session = """
                {"id": "%1$s", "key": {"contentID": "%2$s*"}, "ttl": "120s", "rules": [
                  {"name": "deny", "match": {"contentID": "%2$sdenied"},
                   "respond": {"isAllowed": false, "error": 403, "errorText": "not entitled"}},
                  {"name": "mismatch", "match": {"contentID": "%2$smismatch"},
                   "respond": {"messageID": "mismatch"}}]}
                """.formatted(sessionId, prefix);
        HttpResponse<String> created = send(admin, HttpRequest.newBuilder(URI.create(adminUrl + "/admin/sessions"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(session)));
        check(created.statusCode() == 201, "POST /admin/sessions answers 201", created);

        // 2. Entitlement Requests as the license server sends them.
        String deniedMessageId = UUID.randomUUID().toString();
        HttpResponse<String> denied = entitle(licenseServer, entitlementUrl, deniedMessageId, prefix + "denied");
        check(denied.statusCode() == 200, "the denied request gets an HTTP 200", denied);
        check(denied.body().matches("(?s).*\"isAllowed\"\\s*:\\s*false.*"), "isAllowed is false", denied);
        check("403".equals(field(denied.body(), "error")), "error is 403", denied);
        check(deniedMessageId.equals(field(denied.body(), "messageID")), "the deny answer echoes the messageID", denied);

        String sentMessageId = UUID.randomUUID().toString();
        HttpResponse<String> mismatch = entitle(licenseServer, entitlementUrl, sentMessageId, prefix + "mismatch");
        String answeredMessageId = field(mismatch.body(), "messageID");
        check(answeredMessageId != null && !answeredMessageId.equals(sentMessageId),
                "the mismatch answer carries another messageID (a license server must refuse it)", mismatch);

        // 3. Wait on the journal for this session's two requests instead of polling.
        String query = "session=" + URLEncoder.encode(sessionId, StandardCharsets.UTF_8) + "&wait=10s&count=2";
        HttpResponse<String> journal = send(admin, HttpRequest.newBuilder(URI.create(adminUrl + "/admin/requests?" + query)).GET());
        check(journal.statusCode() == 200, "GET /admin/requests?wait answers 200", journal);
        check(journal.body().matches("(?s).*\"waited\"\\s*:\\s*\\{\\s*\"satisfied\"\\s*:\\s*true.*"), "the wait was satisfied", journal);
        check(count(journal.body(), "\"session\"\\s*:\\s*\"" + Pattern.quote(sessionId) + "\"") == 2,
                "the journal holds exactly this session's two requests", journal);
        check(journal.body().contains("\"rule\":\"deny\"") && journal.body().contains("\"rule\":\"mismatch\""),
                "the session's deny and mismatch rules answered", journal);

        // 4. Clean up.
        HttpResponse<String> deleted = send(admin, HttpRequest.newBuilder(URI.create(adminUrl + "/admin/sessions/" + sessionId)).DELETE());
        check(deleted.statusCode() == 200, "DELETE /admin/sessions/ID answers 200", deleted);
        HttpResponse<String> gone = send(admin, HttpRequest.newBuilder(URI.create(adminUrl + "/admin/sessions/" + sessionId)).GET());
        check(gone.statusCode() == 404, "the session is gone", gone);

        System.out.println(failures == 0 ? "EntitlementMockExample: all checks passed" : "EntitlementMockExample: " + failures + " check(s) failed");
        System.exit(failures == 0 ? 0 : 1);
    }

    static HttpResponse<String> entitle(HttpClient client, String url, String messageId, String contentId) throws Exception {
        String body = "{\"messageID\": \"%s\", \"version\": 1, \"contentID\": \"%s\"}".formatted(messageId, contentId);
        return send(client, HttpRequest.newBuilder(URI.create(url))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    static HttpResponse<String> send(HttpClient client, HttpRequest.Builder request) throws Exception {
        return client.send(request.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A TLS context that trusts the CA and presents the client certificate, its key store built in memory from PEM. */
    static SSLContext mutualTls(Path caFile, Path certFile, Path keyFile) throws Exception {
        CertificateFactory x509 = CertificateFactory.getInstance("X.509");
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("entitlement-mock-ca", x509.generateCertificate(new ByteArrayInputStream(Files.readAllBytes(caFile))));
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(trusted);

        Certificate[] chain = x509.generateCertificates(new ByteArrayInputStream(Files.readAllBytes(certFile))).toArray(new Certificate[0]);
        char[] password = "in-memory".toCharArray();
        KeyStore identity = KeyStore.getInstance("PKCS12");
        identity.load(null, null);
        identity.setKeyEntry("license-server", privateKey(keyFile, chain[0].getPublicKey().getAlgorithm()), password, chain);
        KeyManagerFactory keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keys.init(identity, password);

        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keys.getKeyManagers(), trust.getTrustManagers(), null);
        return context;
    }

    /** An unencrypted PKCS#8 key (`-----BEGIN PRIVATE KEY-----`), EC or RSA like its certificate. */
    static PrivateKey privateKey(Path keyFile, String algorithm) throws Exception {
        String pem = Files.readString(keyFile);
        if (!pem.contains("BEGIN PRIVATE KEY")) throw new IllegalArgumentException(keyFile + ": expected a PKCS#8 \"PRIVATE KEY\" PEM");
        String base64 = pem.replaceAll("-----(BEGIN|END) PRIVATE KEY-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(base64)));
    }

    /** A top-level string or number field of a small JSON object (enough for these answers; use a JSON library in real code). */
    static String field(String json, String name) {
        Matcher matcher = Pattern.compile("\"" + Pattern.quote(name) + "\"\\s*:\\s*(?:\"([^\"]*)\"|(-?\\d+))").matcher(json);
        return matcher.find() ? (matcher.group(1) != null ? matcher.group(1) : matcher.group(2)) : null;
    }

    static int count(String text, String regex) {
        Matcher matcher = Pattern.compile(regex).matcher(text);
        int found = 0;
        while (matcher.find()) found++;
        return found;
    }

    static void check(boolean holds, String what, HttpResponse<String> response) {
        if (holds) {
            System.out.println("ok: " + what);
            return;
        }
        failures++;
        String body = response.body();
        System.out.println("FAILED: " + what + " (" + response.request().method() + " " + response.uri() + " answered "
                + response.statusCode() + ": " + body.substring(0, Math.min(400, body.length())) + ")");
    }
}
