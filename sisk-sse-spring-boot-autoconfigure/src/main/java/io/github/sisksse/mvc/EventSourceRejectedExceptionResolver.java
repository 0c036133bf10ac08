package io.github.sisksse.mvc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import io.github.sisksse.EventSourceRejectedException;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.core.Ordered;
import org.springframework.web.servlet.HandlerExceptionResolver;
import org.springframework.web.servlet.ModelAndView;

/**
 * Answers an {@link EventSourceRejectedException} with its status, its headers (such as {@code Retry-After})
 * and its reason as a plain-text body, so that a client refused a stream learns why.
 */
public final class EventSourceRejectedExceptionResolver implements HandlerExceptionResolver, Ordered {

	@Override
	public @Nullable ModelAndView resolveException(HttpServletRequest request, HttpServletResponse response,
			@Nullable Object handler, Exception ex) {
		if (!(ex instanceof EventSourceRejectedException rejected) || response.isCommitted()) {
			return null;
		}
		try {
			response.setStatus(rejected.getStatusCode().value());
			rejected.getHeaders().forEach((name, values) -> values.forEach((value) -> response.addHeader(name, value)));
			response.setContentType("text/plain");
			response.setCharacterEncoding(StandardCharsets.UTF_8);
			String reason = rejected.getReason();
			response.getWriter().write((reason != null) ? reason : rejected.getStatusCode().toString());
			return new ModelAndView();
		}
		catch (IOException writeFailed) {
			return null;
		}
	}

	@Override
	public int getOrder() {
		return Ordered.HIGHEST_PRECEDENCE + 10;
	}

}
