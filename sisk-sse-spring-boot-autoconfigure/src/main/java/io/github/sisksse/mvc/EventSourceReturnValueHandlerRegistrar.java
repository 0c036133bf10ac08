package io.github.sisksse.mvc;

import java.util.ArrayList;
import java.util.List;

import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.web.method.support.HandlerMethodReturnValueHandler;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;
import org.springframework.web.servlet.mvc.method.annotation.ResponseBodyEmitterReturnValueHandler;

/**
 * Lets controller methods return an {@link io.github.sisksse.EventSource}: puts a return value handler first in every
 * {@link RequestMappingHandlerAdapter}, ahead of {@code @ResponseBody} handling (which would otherwise try to
 * serialise the source). Stateless, so thread-safe.
 */
public final class EventSourceReturnValueHandlerRegistrar implements BeanPostProcessor {

	/**
	 * Create a registrar.
	 */
	public EventSourceReturnValueHandlerRegistrar() {
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

}
