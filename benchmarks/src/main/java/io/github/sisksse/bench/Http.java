package io.github.sisksse.bench;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A minimal blocking HTTP/1.1 client for the control requests (POST /broadcast, GET /hello, GET /stats): one
 * connection per request, {@code Connection: close}, read to the end, bounded by a timeout.
 */
final class Http {

	private Http() {
	}

	record Response(int status, String body, long sentNanos, long doneNanos) {

		double millis() {
			return (this.doneNanos - this.sentNanos) / 1e6;
		}

	}

	static Response request(InetSocketAddress server, String method, String path, int timeoutMillis)
			throws IOException {
		try (Socket socket = new Socket()) {
			socket.connect(server, timeoutMillis);
			socket.setSoTimeout(timeoutMillis);
			socket.setTcpNoDelay(true);
			byte[] request = (method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n"
					+ "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII);
			OutputStream out = socket.getOutputStream();
			long sent = System.nanoTime();
			out.write(request);
			out.flush();
			InputStream in = socket.getInputStream();
			ByteArrayOutputStream all = new ByteArrayOutputStream();
			byte[] buffer = new byte[8192];
			int n;
			while ((n = in.read(buffer)) >= 0) {
				all.write(buffer, 0, n);
			}
			long done = System.nanoTime();
			String text = all.toString(StandardCharsets.ISO_8859_1);
			int status = -1;
			if (text.startsWith("HTTP/1.1 ") && text.length() >= 12) {
				status = Integer.parseInt(text.substring(9, 12));
			}
			int bodyStart = text.indexOf("\r\n\r\n");
			String body = (bodyStart >= 0) ? text.substring(bodyStart + 4) : "";
			if (bodyStart >= 0 && text.substring(0, bodyStart).toLowerCase().contains("transfer-encoding: chunked")) {
				body = dechunk(body);
			}
			return new Response(status, body, sent, done);
		}
	}

	/** The data of a chunked body (chunk extensions and trailers are not expected from the bench server). */
	private static String dechunk(String chunked) {
		StringBuilder data = new StringBuilder();
		int at = 0;
		while (at < chunked.length()) {
			int eol = chunked.indexOf("\r\n", at);
			if (eol < 0) {
				break;
			}
			int size = Integer.parseInt(chunked.substring(at, eol).trim(), 16);
			if (size == 0) {
				break;
			}
			int end = Math.min(chunked.length(), eol + 2 + size);
			data.append(chunked, eol + 2, end);
			at = end + 2;
		}
		return data.toString();
	}

	/** The value of the line "name=value" in a /stats-like body, or -1. */
	static long value(String body, String name) {
		return values(body, "").getOrDefault(name, -1L);
	}

	/** Every numeric "name=value" line whose name starts with the prefix, in body order, prefix removed. */
	static Map<String, Long> values(String body, String prefix) {
		Map<String, Long> values = new LinkedHashMap<>();
		for (String line : body.split("\n")) {
			int eq = line.indexOf('=');
			String name = (eq > 0) ? line.substring(0, eq).trim() : "";
			String value = (eq > 0) ? line.substring(eq + 1).trim() : "";
			if (name.startsWith(prefix) && value.matches("-?[0-9]+")) {
				values.put(name.substring(prefix.length()), Long.parseLong(value));
			}
		}
		return values;
	}

}
