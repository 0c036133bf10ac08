package io.github.sisksse;

import java.nio.charset.StandardCharsets;

import org.jspecify.annotations.Nullable;

import org.springframework.http.HttpHeaders;
import org.springframework.http.MediaType;
import org.springframework.util.Assert;

/**
 * The response headers of one stream: the ones every stream has, the application's own, and whether it is too late
 * to add any (an event was sent, or the headers were written).
 * <p>
 * <b>Thread safety.</b> None of its own: every instance method is called with the connection's monitor held. It
 * does no I/O and calls no other code.
 */
final class ResponseHeaders {

	private static final MediaType TEXT_EVENT_STREAM_UTF8 = new MediaType(MediaType.TEXT_EVENT_STREAM,
			StandardCharsets.UTF_8);

	private @Nullable HttpHeaders userHeaders;

	private boolean written;

	private boolean eventSent;

	/**
	 * Check a header the application adds; needs no lock.
	 * @throws IllegalArgumentException if the name is empty, or either contains a line break or the name a colon
	 */
	static void check(String name, String value) {
		Assert.hasText(name, "Header name must not be empty");
		EventEncoder.checkNoLineBreak("Header name", name);
		EventEncoder.checkNoLineBreak("Header value", value);
		Assert.isTrue(name.indexOf(':') < 0, () -> "Header name must not contain ':': " + name);
	}

	/**
	 * Add a header of the application's, {@linkplain #check checked} already.
	 * @throws IllegalStateException if an event was already sent or the headers already written
	 */
	void add(String name, String value) {
		if (this.eventSent) {
			throw new IllegalStateException(
					"Cannot add header '" + name + "': an event was already sent; add headers before the first send");
		}
		if (this.written) {
			throw new IllegalStateException(
					"Cannot add header '" + name + "': the response headers were already written");
		}
		if (this.userHeaders == null) {
			this.userHeaders = new HttpHeaders();
		}
		this.userHeaders.add(name, value);
	}

	/**
	 * An event was offered: if the application sent it to this stream (a broadcast does not count), the headers
	 * are fixed from now on.
	 */
	void sent(boolean ownSend) {
		this.eventSent |= ownSend;
	}

	/**
	 * Complete the given response headers with the stream's (content type, caching, the application's own), which
	 * are fixed from now on.
	 */
	void writeTo(HttpHeaders headers) {
		headers.setContentType(TEXT_EVENT_STREAM_UTF8);
		headers.setCacheControl("no-cache");
		headers.set("X-Accel-Buffering", "no");
		if (this.userHeaders != null) {
			this.userHeaders.forEach(headers::put);
		}
		this.written = true;
	}

	/**
	 * The response is bound: its headers are written, whether or not {@link #writeTo} was called.
	 */
	void committed() {
		this.written = true;
	}

}
