package io.github.sisksse.autoconfigure;

import io.github.sisksse.server.JettySendBufferCustomizer;
import io.github.sisksse.server.TomcatSendBufferCustomizer;
import org.apache.catalina.startup.Tomcat;
import org.eclipse.jetty.server.ServerConnector;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication.Type;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.jetty.ConfigurableJettyWebServerFactory;
import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;
import org.springframework.util.StringUtils;
import org.springframework.util.unit.DataSize;

/**
 * {@link org.springframework.boot.autoconfigure.EnableAutoConfiguration Auto-configuration} of the embedded web
 * server's connections from {@code sisk.sse.server.*}: with {@code sisk.sse.server.send-buffer} set, caps the send
 * buffer of every connection that Tomcat or Jetty, whichever is on the classpath, accepts. Without either (or
 * without the property) it configures nothing.
 */
@AutoConfiguration
@ConditionalOnWebApplication(type = Type.SERVLET)
@ConditionalOnBooleanProperty(name = "sisk.sse.enabled", matchIfMissing = true)
@Conditional(SiskSseWebServerAutoConfiguration.OnSendBuffer.class)
@EnableConfigurationProperties(SiskSseProperties.class)
public final class SiskSseWebServerAutoConfiguration {

	static final String SEND_BUFFER = "sisk.sse.server.send-buffer";

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ Tomcat.class, ConfigurableTomcatWebServerFactory.class })
	static class TomcatConfiguration {

		@Bean
		TomcatSendBufferCustomizer siskSseTomcatSendBufferCustomizer(SiskSseProperties properties) {
			return new TomcatSendBufferCustomizer(sendBufferSize(properties));
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ ServerConnector.class, ConfigurableJettyWebServerFactory.class })
	static class JettyConfiguration {

		@Bean
		JettySendBufferCustomizer siskSseJettySendBufferCustomizer(SiskSseProperties properties) {
			return new JettySendBufferCustomizer(sendBufferSize(properties));
		}

	}

	/**
	 * The bound value, which {@link SiskSseProperties} has checked to fit an int.
	 */
	private static int sendBufferSize(SiskSseProperties properties) {
		DataSize size = properties.getServer().getSendBuffer();
		if (size == null) {
			throw new IllegalStateException(SEND_BUFFER + " is set but bound to no value");
		}
		return Math.toIntExact(size.toBytes());
	}

	/**
	 * Matches when the send buffer is set to something: an empty value, as in a YAML file listing the properties,
	 * means unset.
	 */
	static final class OnSendBuffer extends SpringBootCondition {

		@Override
		public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
			String value = context.getEnvironment().getProperty(SEND_BUFFER);
			return StringUtils.hasText(value) ? ConditionOutcome.match(SEND_BUFFER + " is " + value)
					: ConditionOutcome.noMatch(SEND_BUFFER + " is not set");
		}

	}

}
