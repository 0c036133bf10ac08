package io.github.sisksse.autoconfigure;

import java.util.ArrayList;
import java.util.List;

import io.github.sisksse.EventSource;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.MethodParameter;
import org.springframework.web.context.request.NativeWebRequest;
import org.springframework.web.method.support.AsyncHandlerMethodReturnValueHandler;
import org.springframework.web.method.support.HandlerMethodReturnValueHandler;
import org.springframework.web.method.support.ModelAndViewContainer;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitterReturnValueHandler;

import org.jspecify.annotations.Nullable;

/**
 * Lets controller methods return an {@link EventSource}: puts a return value handler first in every
 * {@link RequestMappingHandlerAdapter}, ahead of {@code @ResponseBody} handling (which would otherwise try to
 * serialise the source), and hands the source's emitter to Spring MVC's own emitter handling.
 */
final class EventSourceReturnValueHandlerRegistrar implements BeanPostProcessor {

	EventSourceReturnValueHandlerRegistrar() {
	}

	@Override
	public Object postProcessAfterInitialization(Object bean, String beanName) {
		if (bean instanceof RequestMappingHandlerAdapter adapter) {
			List<HandlerMethodReturnValueHandler> handlers = adapter.getReturnValueHandlers();
			if (handlers != null) {
				handlers.stream()
					.filter(ResponseBodyEmitterReturnValueHandler.class::isInstance)
					.findFirst()
					.ifPresent((emitterHandler) -> {
						List<HandlerMethodReturnValueHandler> all = new ArrayList<>(handlers.size() + 1);
						all.add(new EventSourceReturnValueHandler(emitterHandler));
						all.addAll(handlers);
						adapter.setReturnValueHandlers(all);
					});
			}
		}
		return bean;
	}

	private record EventSourceReturnValueHandler(HandlerMethodReturnValueHandler emitterHandler)
			implements AsyncHandlerMethodReturnValueHandler {

		@Override
		public boolean supportsReturnType(MethodParameter returnType) {
			return EventSource.class.isAssignableFrom(returnType.getParameterType());
		}

		@Override
		public boolean isAsyncReturnValue(@Nullable Object returnValue, MethodParameter returnType) {
			return returnValue instanceof EventSource;
		}

		@Override
		public void handleReturnValue(@Nullable Object returnValue, MethodParameter returnType,
				ModelAndViewContainer mavContainer, NativeWebRequest webRequest) throws Exception {
			Object emitter = (returnValue instanceof EventSource source) ? source.emitter() : null;
			this.emitterHandler.handleReturnValue(emitter, returnType, mavContainer, webRequest);
		}

	}

}
