import { useCallback, useEffect, useState, type RefObject } from 'react';
import { NO_FORM_ERRORS, formErrors, type FormErrors } from './api-errors.ts';

/**
 * Server errors for a form; a field's error clears as soon as the user edits that field. When
 * errors arrive that name fields, the first invalid field of `form` gets focus, after React has
 * rendered it as invalid.
 */
export function useFormErrors(form: RefObject<HTMLFormElement | null>) {
  const [errors, setState] = useState<FormErrors>(NO_FORM_ERRORS);
  // Bumped by each set that names fields; the effect below runs after that render commits.
  const [focusRequest, setFocusRequest] = useState(0);

  const setErrors = useCallback((next: FormErrors) => {
    setState(next);
    if (Object.keys(next.fields).length > 0) setFocusRequest((n) => n + 1);
  }, []);

  useEffect(() => {
    if (focusRequest > 0)
      form.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  }, [focusRequest, form]);

  const clearField = useCallback((field: string) => {
    setState((current) => {
      if (!current.fields[field]) return current;
      const { [field]: _cleared, ...rest } = current.fields;
      return { ...current, fields: rest };
    });
  }, []);
  return {
    errors,
    setFromError: useCallback((error: unknown) => setErrors(formErrors(error)), [setErrors]),
    setErrors,
    reset: useCallback(() => setState(NO_FORM_ERRORS), []),
    clearField,
  };
}
