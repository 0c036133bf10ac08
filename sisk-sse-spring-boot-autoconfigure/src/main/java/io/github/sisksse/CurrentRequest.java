package io.github.sisksse;

import java.util.concurrent.atomic.AtomicLong;

import jakarta.servlet.http.HttpServletRequest;
import org.jspecify.annotations.Nullable;

import org.springframework.web.context.request.RequestAttributes;
import org.springframework.web.context.request.RequestContextHolder;
import org.springframework.web.context.request.ServletRequestAttributes;

/**
 * What the registry reads from the request being handled on the calling thread, if any. Stateless.
 */
final class CurrentRequest {

	private static final AtomicLong CALLBACKS = new AtomicLong();

	private CurrentRequest() {
	}

	private static @Nullable HttpServletRequest get() {
		return (RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes)
				? attributes.getRequest() : null;
	}

	static boolean isHead() {
		HttpServletRequest request = get();
		return request != null && "HEAD".equals(request.getMethod());
	}

	static @Nullable String remoteAddress() {
		HttpServletRequest request = get();
		return (request != null) ? request.getRemoteAddr() : null;
	}

	/**
	 * Return the id the reconnecting client last received: the {@code Last-Event-ID} header browsers send, or the
	 * {@code lastEventId} query parameter of clients that cannot set headers.
	 */
	static @Nullable String lastEventId() {
		HttpServletRequest request = get();
		if (request == null) {
			return null;
		}
		String header = request.getHeader("Last-Event-ID");
		return (header != null && !header.isEmpty()) ? header : request.getParameter("lastEventId");
	}

	/**
	 * Tell the source when the handler of the current request has finished without starting a stream (it returned
	 * something else or threw), so that it need not wait for its bind deadline. A handler that went async (one
	 * returning {@code CompletableFuture<EventSource>}, say) hands the source over later: the deadline covers it.
	 */
	static void onHandlerEnd(DefaultEventSource source) {
		if (RequestContextHolder.getRequestAttributes() instanceof ServletRequestAttributes attributes) {
			attributes.registerDestructionCallback(CurrentRequest.class.getName() + "#" + CALLBACKS.incrementAndGet(),
					() -> {
						if (!attributes.getRequest().isAsyncStarted()) {
							source.requestEnded();
						}
					}, RequestAttributes.SCOPE_REQUEST);
		}
	}

}
