package io.github.sisksse.autoconfigure;

import java.util.List;

import io.github.sisksse.EventLog;
import io.github.sisksse.EventSource;
import io.github.sisksse.EventSourceListener;
import io.github.sisksse.EventSourceRegistry;
import io.github.sisksse.micrometer.EventSourceMetrics;
import io.github.sisksse.mvc.EventSourceRejectedExceptionResolver;
import io.github.sisksse.mvc.EventSourceReturnValueHandlerRegistrar;
import io.micrometer.core.instrument.binder.MeterBinder;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.jspecify.annotations.Nullable;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.autoconfigure.task.TaskSchedulingAutoConfiguration;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.thread.Threading;
import org.springframework.context.ApplicationEventPublisher;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;
import org.springframework.core.task.VirtualThreadTaskExecutor;
import org.springframework.http.converter.HttpMessageConverter;
import org.springframework.http.converter.HttpMessageConverters;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.util.ClassUtils;
import org.springframework.web.servlet.mvc.method.annotation.RequestMappingHandlerAdapter;
import org.springframework.web.servlet.mvc.method.annotation.SseEmitter;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} for the
 * {@link EventSourceRegistry} of a servlet web application, and for controller methods that return an
 * {@link EventSource}.
 * <p>
 * Pings and timeouts run on a one-thread scheduler that the registry owns and shuts down after its last source,
 * not exposed as a bean so that Spring Boot's own scheduler auto-configuration is unaffected (Boot's shared
 * scheduler has one thread for every {@code @Scheduled} job, and it stops before the registry does). To use another
 * {@link TaskScheduler}, declare it as a bean named {@value #SCHEDULER_BEAN_NAME}. Events are serialised
 * with Spring MVC's message converters. Sends go through the {@link EventLog} bean if there is one (with
 * {@code sisk.sse.broker=redis}, {@link SiskSseRedisAutoConfiguration} defines it), else through a log in memory.
 */
@AutoConfiguration(after = TaskSchedulingAutoConfiguration.class)
@ConditionalOnWebApplication(type = Type.SERVLET)
@ConditionalOnClass(SseEmitter.class)
@ConditionalOnBooleanProperty(name = "sisk.sse.enabled", matchIfMissing = true)
@EnableConfigurationProperties(SiskSseProperties.class)
public final class SiskSseAutoConfiguration {

	private static final Log logger = LogFactory.getLog(SiskSseAutoConfiguration.class);

	private static final String TOMCAT = "org.apache.catalina.startup.Tomcat";

	private static final String JETTY = "org.eclipse.jetty.server.Server";

	/**
	 * The name of a {@link TaskScheduler} bean for the registry's timers, if the application wants to provide one.
	 */
	public static final String SCHEDULER_BEAN_NAME = "siskSseTaskScheduler";

	@Bean
	@ConditionalOnMissingBean
	EventSourceRegistry eventSourceRegistry(SiskSseProperties properties,
			@Qualifier(SCHEDULER_BEAN_NAME) ObjectProvider<TaskScheduler> taskScheduler,
			ObjectProvider<RequestMappingHandlerAdapter> handlerAdapter, ObjectProvider<EventSourceListener> listeners,
			ObjectProvider<EventLog> eventLog, Environment environment, ResourceLoader resourceLoader) {
		SiskSseProperties.Ping ping = properties.getPing();
		SiskSseProperties.Queue queue = properties.getQueue();
		EventSourceRegistry.Builder builder = EventSourceRegistry.builder()
			.pingEnabled(ping.isEnabled())
			.pingInterval(ping.getInterval())
			.pingMessage(ping.getFormat(), ping.getMessage(), ping.getEventName())
			.pingResetsWaitForFail(ping.isResetsWaitForFail())
			.waitForFail(properties.getWaitForFail())
			.maxLifetime(properties.getMaxLifetime())
			.retry(properties.getRetry())
			.closeEvent(properties.getCloseEvent().getName(), properties.getCloseEvent().getData())
			.duplicateIdentifier(properties.getDuplicateIdentifier())
			.queue(queue.getMaxEvents(), queue.getMaxBytes().toBytes(), queue.getOverflow())
			.writerThreads(properties.getWriterThreads())
			.writeTimeout(properties.getWriteTimeout())
			.bindTimeout(properties.getBindTimeout())
			.maxConnections(properties.getMaxConnections(), properties.getMaxConnectionsPerClient())
			.messageConverters(() -> messageConverters(handlerAdapter));
		listeners.orderedStream().forEach(builder::listener);
		SiskSseProperties.Replay replay = properties.getReplay();
		if (replay.isEnabled()) {
			builder.replay(replay.getMaxEvents(), replay.getMaxBytes().toBytes(), replay.getMaxAge(),
					replay.getResetEvent());
		}
		eventLog.ifUnique(builder::eventLog);
		TaskScheduler scheduler = taskScheduler.getIfAvailable();
		if (scheduler != null) {
			builder.scheduler(scheduler);
		}
		if (Threading.VIRTUAL.isActive(environment)) {
			builder.writerExecutor(new VirtualThreadTaskExecutor("sisk-sse-writer-"));
		}
		warnIfStreamsCanStarveTheConnector(properties, environment, resourceLoader.getClassLoader());
		return builder.build();
	}

	/**
	 * Every open stream holds one of the container's connections for good; once they are all taken, the container
	 * serves nothing else. Say so at start-up when nothing keeps streams below that limit.
	 */
	private static void warnIfStreamsCanStarveTheConnector(SiskSseProperties properties, Environment environment,
			@Nullable ClassLoader classLoader) {
		// With Jetty present, Spring Boot starts Jetty, whose connections are not limited by default.
		if (!ClassUtils.isPresent(TOMCAT, classLoader) || ClassUtils.isPresent(JETTY, classLoader)) {
			return;
		}
		int containerLimit = environment.getProperty("server.tomcat.max-connections", Integer.class, 8192);
		Integer limit = properties.getMaxConnections();
		if (containerLimit > 0 && (limit == null || limit >= containerLimit)) {
			logger.warn("Event streams can take all " + containerLimit + " of Tomcat's connections "
					+ "(server.tomcat.max-connections), after which it answers no other request; set "
					+ "sisk.sse.max-connections below it (now " + ((limit != null) ? limit : "unset") + ")");
		}
	}

	@Bean
	@ConditionalOnMissingBean
	EventSourceRejectedExceptionResolver eventSourceRejectedExceptionResolver() {
		return new EventSourceRejectedExceptionResolver();
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterBinder.class)
	static class MetricsConfiguration {

		@Bean
		@ConditionalOnMissingBean(EventSourceMetrics.class)
		EventSourceMetrics eventSourceMetrics() {
			return new EventSourceMetrics();
		}

	}

	private static Iterable<HttpMessageConverter<?>> messageConverters(
			ObjectProvider<RequestMappingHandlerAdapter> handlerAdapter) {
		RequestMappingHandlerAdapter adapter = handlerAdapter.getIfUnique();
		List<HttpMessageConverter<?>> converters = (adapter != null) ? adapter.getMessageConverters() : List.of();
		return converters.isEmpty() ? HttpMessageConverters.forServer().registerDefaults().build() : converters;
	}

	@Bean
	@ConditionalOnBooleanProperty(name = "sisk.sse.application-events", matchIfMissing = true)
	@ConditionalOnMissingBean(name = "eventSourceApplicationEvents")
	EventSourceListener eventSourceApplicationEvents(ApplicationEventPublisher publisher) {
		return EventSourceListener.publishing(publisher);
	}

	@Bean
	@ConditionalOnMissingBean
	static EventSourceReturnValueHandlerRegistrar eventSourceReturnValueHandlerRegistrar() {
		return new EventSourceReturnValueHandlerRegistrar();
	}

}
