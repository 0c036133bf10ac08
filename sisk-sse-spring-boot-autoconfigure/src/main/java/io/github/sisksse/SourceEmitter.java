package io.github.sisksse;

import java.util.Set;

import org.jspecify.annotations.Nullable;

import org.springframework.http.MediaType;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter.DataWithMediaType;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * The emitter a controller may return instead of the source ({@code return source.close();}). Writing to it
 * directly is not supported: events go through the source, which owns the response.
 * <p>
 * <b>Thread safety.</b> No state of its own beyond the immutable reference to its source, which is thread-safe.
 */
final class SourceEmitter extends SseEmitter {

	private final DefaultEventSource source;

	SourceEmitter(DefaultEventSource source) {
		super(-1L);
		this.source = source;
	}

	DefaultEventSource source() {
		return this.source;
	}

	@Override
	public void send(Object object) {
		throw unsupported();
	}

	@Override
	public void send(Object object, @Nullable MediaType mediaType) {
		throw unsupported();
	}

	@Override
	public void send(SseEventBuilder builder) {
		throw unsupported();
	}

	@Override
	public void send(Set<DataWithMediaType> items) {
		throw unsupported();
	}

	@Override
	public void complete() {
		this.source.close();
	}

	@Override
	public void completeWithError(Throwable ex) {
		this.source.end(CloseReason.ERROR, false, false, null, ex);
	}

	private UnsupportedOperationException unsupported() {
		return new UnsupportedOperationException(
				"Send through the EventSource (" + this.source + "), not its emitter: the source owns the response");
	}

}
