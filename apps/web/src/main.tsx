import { QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app';
import { captureFragmentToken } from './lib/router';
import { StepUpProvider } from './lib/step-up';
import { queryClient } from './lib/trpc';
import './styles.css';

captureFragmentToken();

const root = document.getElementById('root');
if (!root) throw new Error('missing #root');

createRoot(root).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <StepUpProvider>
        <App />
      </StepUpProvider>
    </QueryClientProvider>
  </StrictMode>,
);
