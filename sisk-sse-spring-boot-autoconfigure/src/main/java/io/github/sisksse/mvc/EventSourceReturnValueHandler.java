package io.github.sisksse.mvc;

import java.util.Optional;

import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceConnection;
import jakarta.servlet.ServletOutputStream;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import org.jspecify.annotations.Nullable;

import org.springframework.core.MethodParameter;
import org.springframework.core.ResolvableType;
import org.springframework.http.HttpMethod;
import org.springframework.http.ResponseEntity;
import org.springframework.http.server.ServletServerHttpResponse;
import org.springframework.util.Assert;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.context.request.async.DeferredResult;
import org.springframework.web.context.request.async.WebAsyncUtils;
import org.springframework.web.filter.ShallowEtagHeaderFilter;
import org.springframework.web.method.support.AsyncHandlerMethodReturnValueHandler;
import org.springframework.web.method.support.HandlerMethodReturnValueHandler;
import org.springframework.web.method.support.ModelAndViewContainer;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitter;

/**
 * Handles controller methods that return an {@link EventSource}, or the emitter of one, or either in a
 * {@link ResponseEntity} (whose status and headers are applied before the stream starts): writes the stream's
 * headers, starts asynchronous processing as Spring MVC does for its own emitters, and hands the response to the
 * source through a {@link ServletResponseChannel}, which writes without ever blocking. A {@code HEAD} request, or
 * a source that already ended with nothing to write, gets the headers only. Any other
 * {@link ResponseBodyEmitter} goes to Spring MVC's own handler.
 * <p>
 * Stateless, so thread-safe.
 */
public final class EventSourceReturnValueHandler implements AsyncHandlerMethodReturnValueHandler {

	private final HandlerMethodReturnValueHandler emitterHandler;

	/**
	 * Create a handler.
	 * @param emitterHandler Spring MVC's handler for other emitters
	 */
	public EventSourceReturnValueHandler(HandlerMethodReturnValueHandler emitterHandler) {
		this.emitterHandler = emitterHandler;
	}

	@Override
	public boolean supportsReturnType(MethodParameter returnType) {
		Class<?> type = returnType.getParameterType();
		if (ResponseEntity.class.isAssignableFrom(type)) {
			type = ResolvableType.forMethodParameter(returnType).getGeneric(0).resolve(Object.class);
		}
		return EventSource.class.isAssignableFrom(type) || ResponseBodyEmitter.class.isAssignableFrom(type);
	}

	@Override
	public boolean isAsyncReturnValue(@Nullable Object returnValue, MethodParameter returnType) {
		return EventSourceConnection.of(body(returnValue)).isPresent();
	}

	private static @Nullable Object body(@Nullable Object returnValue) {
		return (returnValue instanceof ResponseEntity<?> entity) ? entity.getBody() : returnValue;
	}

	@Override
	public void handleReturnValue(@Nullable Object returnValue, MethodParameter returnType,
			ModelAndViewContainer mavContainer, NativeWebRequest webRequest) throws Exception {
		Optional<EventSourceConnection> source = EventSourceConnection.of(body(returnValue));
		if (source.isEmpty()) {
			// Spring MVC's own emitters, and a ResponseEntity without a body, are Spring MVC's to handle.
			this.emitterHandler.handleReturnValue(returnValue, returnType, mavContainer, webRequest);
			return;
		}
		EventSourceConnection connection = source.get();
		HttpServletRequest request = webRequest.getNativeRequest(HttpServletRequest.class);
		HttpServletResponse response = webRequest.getNativeResponse(HttpServletResponse.class);
		Assert.state(request != null && response != null, "Not a Servlet request");
		ServletServerHttpResponse outputMessage = new ServletServerHttpResponse(response);
		if (returnValue instanceof ResponseEntity<?> entity) {
			// Status and headers of the entity, applied before the stream starts; the stream's own come after.
			response.setStatus(entity.getStatusCode().value());
			outputMessage.getHeaders().putAll(entity.getHeaders());
		}
		connection.prepareResponse(outputMessage.getHeaders());
		if (HttpMethod.HEAD.matches(request.getMethod()) || connection.isFinished()) {
			mavContainer.setRequestHandled(true);
			outputMessage.flush();
			return;
		}
		ShallowEtagHeaderFilter.disableContentCaching(request);
		// Writes status and headers into the response without committing it: the first write does.
		outputMessage.getBody();
		ServletOutputStream out = response.getOutputStream();
		// No container timeout: the source's own timeouts and lifetime apply.
		DeferredResult<Object> result = new DeferredResult<>(-1L);
		ServletResponseChannel channel = new ServletResponseChannel(connection, result, out);
		// Bound first: a source already carried by another response fails here, before this one goes async.
		connection.bind(channel);
		WebAsyncUtils.getAsyncManager(webRequest).startDeferredResultProcessing(result, mavContainer);
		channel.listen();
	}

}
